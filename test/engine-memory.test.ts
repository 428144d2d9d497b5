import { MemoryEngine } from '../src/engine/memory.js';
import { engineContract, RecordingHandler } from './helpers/engine-contract.js';
import { ManualClock } from './helpers/manual-clock.js';

engineContract('engine memory', async () => {
  const clock = new ManualClock();
  const engine = new MemoryEngine({ replayBufferSize: 3, replayWindowMs: 60_000, presenceHistorySize: 4, topicPresenceHistorySize: 20, deliveryHistorySize: 4 }, clock);
  const handler = new RecordingHandler();
  await engine.start(handler);
  return { engine, handler, advance: (ms) => clock.advance(ms), close: () => engine.stop() };
});
