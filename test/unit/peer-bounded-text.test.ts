import { BoundedText, PeerFloodError } from '../../src/peer/bounded-text';

test('keeps only the tail, with absolute offsets still pointing at the same characters', () => {
  const text = new BoundedText({ keepChars: 10, failAfterChars: 1000 });
  for (let i = 0; i < 10; i += 1) text.append(`line ${i}\n`);
  expect(text.length).toBe(70);
  expect(text.toString().length).toBeLessThanOrEqual(20);
  expect(text.toString().endsWith('line 9\n')).toBe(true);
  const at = text.indexOf('line 9');
  expect(at).toBe(63);
  expect(text.slice(at, at + 6)).toBe('line 9');
  expect(text.slice(-2)).toBe('9\n');
  expect(text.slice(0)).toBe(text.toString());
});

test('a peer that floods past the limit fails the exchange; memory stays bounded meanwhile', () => {
  const text = new BoundedText({ keepChars: 1024, failAfterChars: 1024 * 1024 });
  const chunk = 'x'.repeat(32 * 1024);
  let sent = 0;
  expect(() => {
    for (;;) {
      text.append(chunk);
      sent += chunk.length;
      expect(text.toString().length).toBeLessThanOrEqual(2 * 1024 + chunk.length);
    }
  }).toThrow(PeerFloodError);
  expect(sent).toBe(1024 * 1024);
  text.reset();
  text.append('prompt#');
  expect(text.toString()).toBe('prompt#');
});
