import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { ROOT } from './harness';

const SCRIPT = path.join(ROOT, 'deploy/kafka-cluster.sh');
const NODES = 3;

/**
 * The 3-node KRaft cluster of deploy/kafka-cluster.sh, for the tests that kill brokers. Its data stays in `dir`
 * between runs (formatting costs a JVM start per node); its ports are the first free ones from `firstPort`.
 */
export class LocalKafkaCluster {
  private constructor(readonly port: number, readonly dir: string) {}

  /** Stops whatever an aborted run left running in `dir`, then starts the three nodes and waits for them. */
  static async start(firstPort: number, dir: string): Promise<LocalKafkaCluster> {
    await LocalKafkaCluster.stopIn(dir);
    let port = firstPort;
    while (!(await portsFree(port))) port += 20;
    const cluster = new LocalKafkaCluster(port, dir);
    await cluster.run('start');
    return cluster;
  }

  /** Bootstrap list for KAFKA_BROKERS: every node, so clients find the cluster whichever node is down. */
  get brokers(): string {
    return Array.from({ length: NODES }, (_, i) => `127.0.0.1:${this.port + i}`).join(',');
  }

  /** SIGKILL: the node dies without closing anything, as in a crash. */
  killNode(node: number): Promise<string> {
    return this.run('kill-node', String(node));
  }

  startNode(node: number): Promise<string> {
    return this.run('start-node', String(node));
  }

  stop(): Promise<string> {
    return this.run('stop');
  }

  /** Stops every node that runs from `dir`, whichever ports it got (for an afterAll after a failed start). */
  static stopIn(dir: string): Promise<string> {
    return new LocalKafkaCluster(0, dir).run('stop');
  }

  private run(...args: string[]): Promise<string> {
    const child = spawn('bash', [SCRIPT, ...args], {
      env: {
        ...process.env, KAFKA_CLUSTER_DIR: this.dir, ...(this.port ? { KAFKA_CLUSTER_PORT: String(this.port) } : {}),
        // Starts in half the time on a busy machine (no C2 compiler, one GC thread); the tests need no peak throughput.
        KAFKA_CLUSTER_JVM_OPTS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    return once(child, 'exit').then(([code]) => {
      if (code !== 0) throw new Error(`deploy/kafka-cluster.sh ${args.join(' ')} exited with ${code}:\n${output}`);
      return output;
    });
  }
}

/** The brokers' ports (port, +1, +2) and the controllers' (+10, +11, +12) are all free. */
async function portsFree(port: number): Promise<boolean> {
  for (const p of [0, 1, 2, 10, 11, 12].map((offset) => port + offset)) {
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(p, '127.0.0.1', () => resolve(true));
    });
    if (free) await new Promise((resolve) => server.close(resolve));
    if (!free) return false;
  }
  return true;
}
