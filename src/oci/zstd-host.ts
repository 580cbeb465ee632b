// One perl process per build that starts every zstd of every zstd layer. A spawn from Node forks the whole build
// process (page tables of ~200 MB, copy-on-write faults in every thread after it): a shell per layer and a `mkfifo`
// per eight pipes cost the thread making the tar 0.6-0.9 s of a cold build of the 3.1 GB game at load 8
// (bench/README.md, "Stop 43"). This one is forked once, at the first zstd layer, while the build is still small; it
// makes each named pipe itself, and asks for a pipe of 1 MiB (F_SETPIPE_SZ, which Node cannot call) before zstd reads
// it: through 64 KiB each MiB of tar is 16 hand-overs between the feed's thread and zstd. perl-base is essential on
// Debian; without perl, zstd-child.ts falls back to a shell per layer.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { onLines, tailOf } from '../util/child-output.js';

/** How a zstd ended, as a shell says it: a signal is 128 + its number; `code` -1 when it was never started. */
export interface HostExit {
  code: number;
  /** What it wrote on stderr (its last 2000 characters), or why it could not start. */
  message: string;
}

/** The pipe size asked for: half a feed slot (the feed's thread writes 2 MiB at a time). */
const PIPE_BYTES = 1 << 20;

/**
 * Commands on stdin, one a line, fields hex-encoded (paths may hold spaces or newlines):
 *   start ID FIFO OUT ERR BIN ARG…  makes FIFO (mode 600), then runs `BIN ARG… <FIFO >>OUT 2>ERR` (OUT opened for
 *                                   appending: the blob's writers write in turn, each at its end)
 *   kill ID                         SIGKILL to that zstd if it still runs
 * Replies on fd 3 (each line under PIPE_BUF, written whole): `made ID`, `fail ID HEXMESSAGE`, `exit ID STATUS`.
 * SIGCHLD is held while a child is forked, so its exit is never reported before `made`. At the end of its input it
 * waits for the zstd processes still running.
 */
const SCRIPT = `use strict;
use POSIX ();
open(my $status, '>&=', 3) or die "fd 3: $!\\n";
$status->autoflush(1);
my (%idOf, %pidOf, %fifoOf);
$SIG{CHLD} = sub {
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $id = delete $idOf{$pid};
    next unless defined $id;
    delete $pidOf{$id};
    delete $fifoOf{$id};
    print $status "exit $id " . ($? & 127 ? 128 + ($? & 127) : $? >> 8) . "\\n";
  }
};
my $chld = POSIX::SigSet->new(POSIX::SIGCHLD());
sub quit { print STDERR $_[0]; POSIX::_exit($_[1]) }
while (my $line = <STDIN>) {
  chomp $line;
  my ($cmd, $id, @f) = split / /, $line;
  if ($cmd eq 'kill') { kill 'KILL', $pidOf{$id} if $pidOf{$id}; next }
  my ($fifo, $out, $err, $bin, @args) = map { pack('H*', $_) } @f;
  if (!POSIX::mkfifo($fifo, 0600)) { print $status "fail $id " . unpack('H*', "cannot make a named pipe $fifo: $!") . "\\n"; next }
  POSIX::sigprocmask(POSIX::SIG_BLOCK(), $chld);
  my $pid = fork;
  if (defined $pid && $pid == 0) {
    $SIG{CHLD} = 'DEFAULT';
    POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $chld);
    open(STDERR, '>', $err) or POSIX::_exit(126);
    open(STDOUT, '>>', $out) or quit("cannot open the blob $out: $!\\n", 126);
    open(STDIN, '<', $fifo) or quit("cannot open $fifo: $!\\n", 126);
    fcntl(STDIN, 1031, ${PIPE_BYTES}) if $^O eq 'linux';
    close $status;
    exec { $bin } $bin, @args or quit("cannot run $bin: $!\\n", 127);
  }
  if (defined $pid) { $idOf{$pid} = $id; $pidOf{$id} = $pid; $fifoOf{$id} = $fifo; print $status "made $id\\n" }
  else { print $status "fail $id " . unpack('H*', "fork: $!") . "\\n" }
  POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $chld);
}
# The build is done or gone: a zstd still waiting for its pipe's writer (the build was killed) gets an empty input
# rather than waiting for ever (what it writes goes into a temp file swept as its writer's); one not yet at its open
# gets there soon, hence the loop. A pipe already removed had both ends open. Exits are still reported (SIGCHLD cuts
# the select short).
while (%idOf) {
  for my $id (keys %fifoOf) {
    my $w;
    if (sysopen($w, $fifoOf{$id}, POSIX::O_WRONLY() | POSIX::O_NONBLOCK())) { close $w; delete $fifoOf{$id} }
    elsif ($! != POSIX::ENXIO()) { delete $fifoOf{$id} }
  }
  select(undef, undef, undef, 0.05);
}
`;

const hex = (s: string) => Buffer.from(s).toString('hex');

interface Started {
  made: (error?: string) => void;
  exited: (e: HostExit) => void;
  err: string;
}

/** The build's perl launcher: `start` runs a zstd; the process is kept referenced only while one runs. */
export class ZstdHost {
  private readonly proc: ChildProcess;
  private readonly running = new Map<number, Started>();
  private nextId = 0;
  private gone = false;
  /** The end of what the host wrote on stderr. */
  private readonly stderr: () => string;
  /** Settles once the host process is gone. */
  private readonly exited: Promise<void>;

  constructor(perl: string) {
    // Its own process group, as zstd's processes had before: a Ctrl-C to the build's terminal reaches the build,
    // which ends its layers (their zstd are killed through here); the host ends at the end of its input.
    this.proc = spawn(perl, ['-e', SCRIPT], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'], detached: true });
    this.stderr = tailOf(this.proc.stderr!);
    onLines(this.proc.stdio[3] as Readable, (line) => this.onStatus(line));
    this.proc.stdin!.on('error', () => {}); // the host is gone: its exit says so
    this.exited = new Promise((resolve) => {
      const ended = (message: string) => {
        this.end(message);
        this.reference(false);
        resolve();
      };
      this.proc.once('error', (e) => ended(`cannot run ${perl}: ${e.message}`));
      this.proc.once('close', (code, signal) => ended(`the zstd launcher (perl) ended (${signal ?? code}): ${this.stderr().trim() || 'no message'}`));
    });
    this.reference(false);
  }

  /** Whether it can take more (it exited, or failed to start, otherwise). */
  alive(): boolean {
    return !this.gone;
  }

  private reference(on: boolean): void {
    for (const s of [this.proc, this.proc.stdin, this.proc.stderr, this.proc.stdio[3]] as ({ ref(): void; unref(): void } | null)[]) {
      if (on) s?.ref();
      else s?.unref();
    }
  }

  private onStatus(line: string): void {
    const [kind, id, rest] = line.split(' ');
    const s = this.running.get(Number(id));
    if (!s) return;
    if (kind === 'made') s.made();
    else if (kind === 'fail') this.settle(Number(id), { code: -1, message: Buffer.from(rest ?? '', 'hex').toString() });
    else if (kind === 'exit') this.settle(Number(id), { code: Number(rest), message: Number(rest) === 0 ? '' : readMessage(s.err) }); // a message only says why it failed
  }

  private settle(id: number, e: HostExit): void {
    const s = this.running.get(id);
    if (!s) return;
    this.running.delete(id);
    rmSync(s.err, { force: true });
    s.made(e.message);
    s.exited(e);
    if (this.running.size === 0) this.reference(false);
  }

  private end(message: string): void {
    this.gone = true;
    for (const id of [...this.running.keys()]) this.settle(id, { code: -1, message });
  }

  /**
   * Makes `fifo` and starts `bin args… <fifo >>output 2>err` (`output` opened for appending). `made` resolves once
   * the pipe exists and zstd was forked (it then opens the pipe's read end); `exited` once it is gone (never rejects).
   */
  start(bin: string, args: string[], fifo: string, output: string, err: string): { made: Promise<void>; exited: Promise<HostExit>; kill: () => void } {
    const id = this.nextId++;
    let made!: (error?: string) => void;
    let exited!: (e: HostExit) => void;
    const madeP = new Promise<void>((resolve, reject) => (made = (error) => (error === undefined ? resolve() : reject(new Error(error)))));
    madeP.catch(() => {}); // its exit says the same
    const exitedP = new Promise<HostExit>((resolve) => (exited = resolve));
    if (this.gone) {
      made('the zstd launcher (perl) is gone');
      exited({ code: -1, message: `the zstd launcher (perl) is gone: ${this.stderr().trim() || 'no message'}` });
    } else {
      if (this.running.size === 0) this.reference(true);
      this.running.set(id, { made, exited, err });
      (this.proc.stdin as Writable).write(`start ${id} ${[fifo, output, err, bin, ...args].map(hex).join(' ')}\n`);
    }
    return { made: madeP, exited: exitedP, kill: () => this.running.has(id) && !this.gone && (this.proc.stdin as Writable).write(`kill ${id}\n`) };
  }

  /**
   * No more zstd: the host exits once those running have (their exits still settle); resolves then, when it was
   * reaped (its CPU and its zstd processes' are then this process's children's: bench/lib.ts counts them).
   */
  close(): Promise<void> {
    if (this.gone) return this.exited;
    this.gone = true;
    this.reference(true);
    this.proc.stdin!.end();
    return this.exited;
  }
}

/** zstd's message from its stderr file (the last 2000 characters), or none. */
function readMessage(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000).trim();
  } catch {
    return '';
  }
}
