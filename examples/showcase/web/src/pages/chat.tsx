/**
 * Seed 001: chat. Messages are POSTed to the backend, stored in SQLite and
 * broadcast; opening a conversation loads its history; typing indicators
 * ride on ephemeral signals; presence shows who is here. A tab that was
 * offline recovers what it missed (or reloads it), each message once.
 */
import { type FormEvent, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Publication } from '@tidings/client';
import { useChannelState, usePresence, useTyping } from '@tidings/react';
import { api, timeOf } from '../api.js';
import { useApp } from '../app.js';
import { Avatar } from '../components/header.js';
import { Empty, PageHeader, TypingLine } from '../components/ui.js';

interface Conversation {
  id: string;
  title: string;
  topic: string;
}

interface Message {
  id: number;
  conversation: string;
  author: string;
  text: string;
  at: number;
}

interface Pending {
  key: string;
  text: string;
  id?: number;
  failed?: boolean;
}

/** Keyed by message id, so a replayed or reloaded message appears once. */
function reduce(list: Message[], pub: Publication<{ type: 'message'; message: Message }>): Message[] {
  const m = pub.data.message;
  if (list.some((x) => x.id === m.id)) return list;
  return [...list, m].sort((a, b) => a.id - b.id);
}

export function ChatPage() {
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [current, setCurrent] = useState('general');
  useEffect(() => {
    void api<{ conversations: Conversation[] }>('/api/conversations').then((r) => setConversations(r.conversations));
  }, []);
  const active = conversations.find((c) => c.id === current);
  return (
    <>
      <PageHeader title="Chat" subtitle="Messages are stored in SQLite by the backend, then pushed to everyone in the conversation." />
      <div className="chat">
        <aside className="card chat-list">
          <div className="chat-list-title muted small">Conversations</div>
          {conversations.map((c) => (
            <button key={c.id} className={`conv ${c.id === current ? 'active' : ''}`} onClick={() => setCurrent(c.id)} data-conversation={c.id}>
              <span className="conv-hash">#</span>
              <span>
                <span className="conv-title">{c.title}</span>
                <span className="conv-topic muted small">{c.topic}</span>
              </span>
            </button>
          ))}
        </aside>
        {active ? <Conversation key={active.id} conversation={active} /> : <section className="card chat-main" />}
      </div>
    </>
  );
}

function Conversation({ conversation }: { conversation: Conversation }) {
  const { user } = useApp();
  const channel = `chat:${conversation.id}`;
  const { state: messages, status } = useChannelState<Message[], { type: 'message'; message: Message }>(channel, reduce, {
    initial: [],
    load: async () => ({ state: (await api<{ messages: Message[] }>(`/api/conversations/${conversation.id}/messages`)).messages }),
  });
  const members = usePresence(channel);
  const { typing, setTyping } = useTyping(channel);
  const [draft, setDraft] = useState('');
  const [pending, setPending] = useState<Pending[]>([]);
  const scroller = useRef<HTMLDivElement>(null);

  const online = [...new Set(members.map((m) => m.user))].sort();
  const shownPending = pending.filter((p) => p.id === undefined || !messages.some((m) => m.id === p.id));

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length, shownPending.length]);

  const send = async (e: FormEvent) => {
    e.preventDefault();
    const text = draft.trim();
    if (!text) return;
    const key = crypto.randomUUID();
    setDraft('');
    setTyping(false);
    setPending((p) => [...p, { key, text }]);
    try {
      const m = await api<Message>(`/api/conversations/${conversation.id}/messages`, { body: { text, clientKey: key } });
      setPending((p) => p.map((x) => (x.key === key ? { ...x, id: m.id } : x)));
    } catch {
      setPending((p) => p.map((x) => (x.key === key ? { ...x, failed: true } : x)));
    }
  };

  return (
    <section className="card chat-main">
      <div className="chat-head">
        <div>
          <h2># {conversation.title}</h2>
          <span className="muted small">{conversation.topic}</span>
        </div>
        <div className="online" data-testid="online">
          <span className="muted small">{online.length} online</span>
          <span className="avatars">
            {online.map((u) => (
              <span key={u} className="online-member" data-user={u}>
                <Avatar name={u} size={26} />
              </span>
            ))}
          </span>
        </div>
      </div>
      <div className="messages" ref={scroller} data-testid="messages">
        {status === 'loading' && messages.length === 0 ? <div className="muted center pad">Loading history…</div> : null}
        {status !== 'loading' && messages.length === 0 && shownPending.length === 0 ? (
          <Empty icon="chat" title="No messages yet">
            Say hello: everyone in #{conversation.title} sees it at once.
          </Empty>
        ) : null}
        {messages.map((m, i) => {
          const grouped = i > 0 && messages[i - 1]!.author === m.author && m.at - messages[i - 1]!.at < 120_000;
          return (
            <div key={m.id} className={`msg ${m.author === user ? 'mine' : ''} ${grouped ? 'grouped' : ''}`} data-message-id={m.id}>
              {grouped ? <span className="msg-gutter" /> : <Avatar name={m.author} size={32} />}
              <div className="msg-body">
                {grouped ? null : (
                  <div className="msg-head">
                    <strong>{m.author}</strong>
                    <span className="muted small">{timeOf(m.at)}</span>
                  </div>
                )}
                <p className="msg-text">{m.text}</p>
              </div>
            </div>
          );
        })}
        {shownPending.map((p) => (
          <div key={p.key} className="msg mine pending">
            <Avatar name={user} size={32} />
            <div className="msg-body">
              <div className="msg-head">
                <strong>{user}</strong>
                <span className="muted small">{p.failed ? 'not sent' : 'sending…'}</span>
              </div>
              <p className="msg-text">{p.text}</p>
            </div>
          </div>
        ))}
      </div>
      <TypingLine names={typing} testId="typing" />
      <form className="composer" onSubmit={(e) => void send(e)}>
        <input
          value={draft}
          placeholder={`Message #${conversation.title}`}
          onChange={(e) => {
            setDraft(e.target.value);
            setTyping(e.target.value.length > 0);
          }}
          onBlur={() => setTyping(false)}
          data-testid="composer"
        />
        <button className="btn btn-primary" disabled={!draft.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}
