/** The one error the decoders throw. */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** The command id, when the frame got far enough to have one. */
    readonly id?: number,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
