/**
 * Many channels, batch publishing (issue 15): the many-channels scenario
 * (one subscriber per channel) with Tidings publications sent `batch` at a
 * time through `POST /api/batch`, as a worker reporting on many jobs per tick
 * would. Each request is due at its group's scheduled time, which all its
 * publications carry, so the latency includes the whole batch's handling.
 * The peers have no batch endpoint: Tidings only.
 */
import * as channels from './channels.mjs';

export const title = 'Many channels, batch publishing: POST /api/batch';
export const only = ['tidings'];

export const runOne = (server, opts) => channels.runOne(server, opts);

export const columns = channels.columns;

export const rowsOf = (result) => channels.rowsOf(result, (kind) => `${kind} (batch ${result.params.batch})`);
