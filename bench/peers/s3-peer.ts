// The tests' S3 server (s3rver behind the signature-checking proxy) in a process of its own, so that a bench can
// measure its CPU apart from the relay's. Prints its endpoint as one JSON line; answers "cpu" on stdin with its CPU
// time (user + system, microseconds); "quit" closes it.
import { createInterface } from 'node:readline';
import { TestS3Server } from '../../test/helpers/s3-server.ts';

const bucket = process.argv[2] ?? 'bench';
const s3 = await TestS3Server.start(bucket);
s3.addCredentials('AKIABENCH', 'bench-secret');
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMicros: user + system, objects: (await s3.list()).length })}\n`);
  } else if (line === 'quit') {
    break;
  }
}
await s3.close();
// stdin, still open, would keep the process alive.
process.exit(0);
