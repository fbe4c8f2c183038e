import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { keyHashPartitioner, murmur2 } from './partitioner';

describe('keyHashPartitioner', () => {
  const metadata = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

  it('puts every key on the partition kafkajs (and the Java client) would', () => {
    const ours = keyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 5000; i++) {
      const key = i % 2 ? randomBytes(1 + (i % 37)) : `${randomBytes(16).toString('hex')}:v${i}`;
      for (const n of [1, 3, 6, 7]) {
        const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: null } };
        expect(ours(args)).toBe(theirs(args));
      }
    }
  });

  it('matches the Java client on known vectors', () => {
    // Values from org.apache.kafka.common.utils.Utils.murmur2 (kafka's UtilsTest).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
  });

  it('lets an explicit partition win', () => {
    expect(keyHashPartitioner()({ topic: 't', partitionMetadata: metadata(6), message: { key: 'k', value: null, partition: 4 } })).toBe(4);
  });
});
