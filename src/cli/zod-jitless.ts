// zod without its JIT, for the CLI: zod 4 compiles each object schema's parser with `new Function` on its first
// parse (13 of them in a no-op build, plus a `new Function("")` probe), which a short-lived process pays in
// compilation on every start to parse a few small documents. zod reads the setting when a schema is constructed,
// so this module must run before any schema module: `loadCommands` imports it (dynamically, so no bundling can
// order it after a command's schemas) before the commands. The library leaves zod's global setting alone.
import { z } from 'zod';

z.config({ jitless: true });
