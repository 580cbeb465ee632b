// A record file the user named (diff FILE, --record FILE) need not be a record at all: `--record gamelayer.yaml`,
// `diff /etc/passwd`. The readers' hint for a file that does not parse, "delete it and scan or build again", is for a
// damaged record of .gamelayer/records; for a named file it says what was expected instead, and keeps "delete it"
// for the case where the file is a damaged record.
import { existsSync } from 'node:fs';
import { GamelayerError } from '../errors.js';

export function namedRecordError(e: unknown, file: string, takes: string): unknown {
  // A named file that is not there is a wrong path, not "no build yet, run gamelayer build" (the message for
  // .gamelayer/records/build-last.json, which the readers give for any missing record).
  if (e instanceof GamelayerError && e.code === 'record.no-build' && !existsSync(file)) {
    return new GamelayerError('record.missing', `${file}: no such record`, `${takes}; check the path`, { cause: e });
  }
  if (!(e instanceof GamelayerError) || e.code !== 'record.corrupt') return e;
  return new GamelayerError(e.code, e.message, `${takes}; if ${file} is a damaged record, delete it and scan or build again`, { cause: e });
}
