/*
 * Loaded with `node --require` into a child app by `bench:ingest --profile`. It samples the process's CPU with the
 * in-process inspector between two control files, so only the timed phase is profiled:
 *   `${FLYWHEEL_BENCH_CPU_PROFILE}.start` appears → start sampling;
 *   `${FLYWHEEL_BENCH_CPU_PROFILE}.stop` appears  → stop and write the profile to FLYWHEEL_BENCH_CPU_PROFILE.
 * Files rather than signals, because Nest's shutdown hooks claim SIGUSR2 and node's --cpu-prof only writes on a
 * clean exit, which Nest (it re-raises the signal) never makes.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.FLYWHEEL_BENCH_CPU_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<any>((resolve, reject) => {
    session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result)));
  });
  let state: 'waiting' | 'sampling' | 'done' = 'waiting';
  const timer = setInterval(() => {
    if (state === 'waiting' && existsSync(`${out}.start`)) {
      state = 'sampling';
      void post('Profiler.enable').then(() => post('Profiler.setSamplingInterval', { interval: 1000 })).then(() => post('Profiler.start'));
    } else if (state === 'sampling' && existsSync(`${out}.stop`)) {
      state = 'done';
      clearInterval(timer);
      void post('Profiler.stop').then(({ profile }) => {
        writeFileSync(`${out}.tmp`, JSON.stringify(profile));
        renameSync(`${out}.tmp`, out);
      });
    }
  }, 50);
  timer.unref();
}
