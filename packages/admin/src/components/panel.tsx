import type { ReactNode } from 'react';

export function Panel(props: { title: string; className?: string; aside?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section className={`panel ${props.className ?? ''}`} data-testid={props.testId}>
      <header className="panel-head">
        <h2>{props.title}</h2>
        {props.aside ? <div className="panel-aside">{props.aside}</div> : null}
      </header>
      <div className="panel-body">{props.children}</div>
    </section>
  );
}

export function Empty(props: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-title">{props.title}</div>
      {props.children ? <div className="empty-text">{props.children}</div> : null}
    </div>
  );
}

/** A live panel before its first numbers: waiting for them, or none will come because the live connection stopped. */
export function NoNumbers(props: { stopped: boolean; children: ReactNode }) {
  if (props.stopped) return <Empty title="No live numbers">The live connection has stopped, so nothing new is shown here.</Empty>;
  return <Empty title="Waiting for the first numbers…">{props.children}</Empty>;
}
