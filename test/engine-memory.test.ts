import { MemoryEngine } from '@tidings/server';
import { engineContract } from './engine-contract.js';

engineContract('memory', {
  async make(handler) {
    const engine = new MemoryEngine();
    await engine.start(handler);
    return engine;
  },
});
