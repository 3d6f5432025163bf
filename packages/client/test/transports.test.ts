/** Transport choice: fallback after N failed attempts, cycling back, and the SSE URL derived from the WebSocket one. */
import { describe, expect, it } from 'vitest';
import { deriveSseUrl } from '../src/sse.js';
import { TransportPicker } from '../src/transports.js';

describe('TransportPicker', () => {
  it('moves to the next transport after `fallbackAfter` failures in a row, and cycles back after the last', () => {
    const p = new TransportPicker(['websocket', 'sse'], 2);
    expect(p.current).toBe('websocket');
    p.failed();
    expect(p.current).toBe('websocket');
    p.failed();
    expect(p.current).toBe('sse');
    expect(p.onFallback).toBe(true);
    p.failed();
    p.failed();
    expect(p.current).toBe('websocket');
  });

  it('forgets failures once connected, and reset() returns to the preferred transport', () => {
    const p = new TransportPicker(['websocket', 'sse'], 2);
    p.failed();
    p.connected();
    p.failed();
    expect(p.current).toBe('websocket');
    p.failed();
    expect(p.current).toBe('sse');
    p.reset();
    expect(p.current).toBe('websocket');
    expect(p.onFallback).toBe(false);
  });

  it('stays on a single transport', () => {
    const p = new TransportPicker(['websocket'], 1);
    p.failed();
    p.failed();
    expect(p.current).toBe('websocket');
    expect(() => new TransportPicker([], 1)).toThrow(TypeError);
  });
});

describe('deriveSseUrl', () => {
  it('maps ws(s)://…/ws to http(s)://…/sse and refuses other paths', () => {
    expect(deriveSseUrl('ws://127.0.0.1:7070/ws')).toBe('http://127.0.0.1:7070/sse');
    expect(deriveSseUrl('wss://rt.example.com/tidings/ws')).toBe('https://rt.example.com/tidings/sse');
    expect(deriveSseUrl('wss://rt.example.com/ws?x=1')).toBe('https://rt.example.com/sse');
    expect(deriveSseUrl('wss://rt.example.com/socket')).toBeUndefined();
    expect(deriveSseUrl('http://rt.example.com/ws')).toBeUndefined();
  });
});
