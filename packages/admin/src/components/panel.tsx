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
