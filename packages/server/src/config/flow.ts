/** Namespace fields for flow control (docs/configuration.md, "Conflation and delta compression"). */
import { z } from 'zod';

export const flowFields = {
  /**
   * Milliseconds: the namespace is conflatable (progress, status, counters). A
   * subscriber that falls behind, or asks for it, gets the latest publication
   * at most this often instead of every one; 0 is off.
   */
  conflate: z.number().int().min(0).max(3_600_000).default(0),
};
