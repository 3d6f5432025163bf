import type { ReactNode } from 'react';
import { type IconName, Icon } from './icons.js';

export function PageHeader({ title, subtitle, children }: { title: string; subtitle: string; children?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        <p className="muted">{subtitle}</p>
      </div>
      {children ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}

export function Card({ title, extra, children, className = '' }: { title?: ReactNode; extra?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`card ${className}`}>
      {title ? (
        <div className="card-head">
          <h2>{title}</h2>
          {extra}
        </div>
      ) : null}
      {children}
    </section>
  );
}

export function Empty({ icon, title, children }: { icon: IconName; title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-icon">
        <Icon name={icon} size={24} />
      </div>
      <div className="empty-title">{title}</div>
      {children ? <div className="muted">{children}</div> : null}
    </div>
  );
}

/** A progress bar whose width eases between checkpoints (CSS transition), so it moves smoothly. */
export function Progress({ value, tone = 'accent' }: { value: number; tone?: 'accent' | 'success' | 'danger' }) {
  const pct = Math.max(0, Math.min(100, value));
  return (
    <div className={`progress progress-${tone}`} role="progressbar" aria-valuenow={Math.round(pct)} aria-valuemin={0} aria-valuemax={100}>
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'neutral' | 'accent' | 'success' | 'danger' | 'warning'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** "alice is typing…" / "alice, bob are typing…" with animated dots; empty (but keeping its height) when nobody types. */
export function TypingLine({ names, testId, className = '' }: { names: readonly string[]; testId?: string; className?: string }) {
  return (
    <div className={`typing ${className}`.trim()} data-testid={testId}>
      {names.length ? (
        <>
          <span className="typing-dots" aria-hidden>
            <i />
            <i />
            <i />
          </span>
          {names.join(', ')} {names.length === 1 ? 'is' : 'are'} typing…
        </>
      ) : null}
    </div>
  );
}
