// `npm start`: the relay on PORT (9090).
import { serve } from './serve.js';

serve().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
