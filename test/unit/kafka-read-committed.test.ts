import { describe, expect, it } from 'vitest';
import { abortedRecords } from '../../src/kafka/read-committed.js';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);
const data = (offset: number, producerId: string) => ({ offset: String(offset), key: Buffer.from(`${producerId}@${offset}`), batchContext: { producerId, inTransaction: true } });
const marker = (offset: number, producerId: string, key: Buffer) => ({ offset: String(offset), key, isControlRecord: true, batchContext: { producerId, inTransaction: true } });

describe('records of aborted transactions, as a read_committed consumer must skip them', () => {
  it('finds them whatever order the broker lists the aborted transactions in, several open at once, up to each abort marker', () => {
    const messages = [
      data(0, 'p1'), // aborted, listed second by the broker (aborted last)
      data(1, 'p2'), // aborted, listed first
      data(2, 'p3'), // committed
      data(3, 'p1'),
      marker(4, 'p2', ABORT),
      data(5, 'p3'),
      marker(6, 'p3', COMMIT),
      marker(7, 'p1', ABORT),
      data(8, 'p1'), // p1's next transaction, committed
      marker(9, 'p1', COMMIT),
    ];
    const aborted = abortedRecords({ abortedTransactions: [{ producerId: 'p2', firstOffset: '1' }, { producerId: 'p1', firstOffset: '0' }], messages });
    expect(aborted.map((record) => record.offset)).toEqual(['0', '1', '3']);
  });

  it('finds them when the fetch starts inside two aborted transactions', () => {
    const messages = [data(10, 'p2'), data(11, 'p1'), marker(12, 'p1', ABORT), marker(13, 'p2', ABORT), data(14, 'p1')];
    const aborted = abortedRecords({ abortedTransactions: [{ producerId: 'p1', firstOffset: '3' }, { producerId: 'p2', firstOffset: '5' }], messages });
    expect(aborted.map((record) => record.offset)).toEqual(['10', '11']);
  });

  it('leaves records outside transactions and every record when nothing was aborted', () => {
    const plain = { offset: '0', key: null, batchContext: { producerId: 'p1', inTransaction: false } };
    expect(abortedRecords({ abortedTransactions: [{ producerId: 'p1', firstOffset: '0' }], messages: [plain] })).toEqual([]);
    expect(abortedRecords({ abortedTransactions: [], messages: [data(0, 'p1')] })).toEqual([]);
  });
});
