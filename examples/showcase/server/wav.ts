/** A tiny generated WAV (8 kHz, 8-bit mono tones) to pick as the meeting recording, so nothing binary ships in the repo. */
export function sampleWav(seconds = 2): Buffer {
  const rate = 8000;
  const n = rate * seconds;
  const buf = Buffer.alloc(44 + n);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate, 28);
  buf.writeUInt16LE(1, 32);
  buf.writeUInt16LE(8, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n, 40);
  for (let i = 0; i < n; i++) {
    const f = [330, 392, 440][Math.floor((i / rate) * 3) % 3]!;
    buf[44 + i] = 128 + Math.round(40 * Math.sin((2 * Math.PI * f * i) / rate) * Math.min(1, (n - i) / 800));
  }
  return buf;
}
