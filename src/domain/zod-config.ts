/**
 * zod as the workflows use it. The workflow sandbox forbids code generation, so zod's JIT (which would
 * probe `new Function` there) is off. A worker loads zod and this module once per V8 context and
 * shares them between its workflows (workers/bundle.ts, preloadModules), then freezes them: every
 * setting zod keeps globally is made here, while it loads — an import afterwards finds them made.
 */
import { z } from 'zod';

if (!z.config().jitless) z.config({ jitless: true });
// zod sets its default locale and memoizer when it builds its first schema: one is built now.
z.object({ ready: z.string() });
