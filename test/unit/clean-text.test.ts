import { cleanText } from '../../src/domain/clean-text';

test('a hostile controller’s title-setting OSC sequence is removed, the version text kept', () => {
  expect(cleanText('Version 6.4\u001b]0;owned by the controller\u0007.0.0')).toBe('Version 6.4.0.0');
  expect(cleanText('Version 6.4\u001b]0;unterminated')).toBe('Version 6.4');
});

test('CSI sequences (colours, clear screen, cursor moves) are removed', () => {
  expect(cleanText('\u001b[2J\u001b[1;31mred\u001b[0m \u009b2Kdone')).toBe('red done');
});

test('other control characters become visible \\xHH; newlines become spaces unless kept', () => {
  expect(cleanText('a\u0000b\rc\u007fd\u0085e')).toBe('a\\x00b\\x0dc\\x7fd\\x85e');
  expect(cleanText('line 1\r\nline 2\tend')).toBe('line 1 line 2 end');
  expect(cleanText('line 1\r\nline 2\n', { keepNewlines: true })).toBe('line 1\nline 2\n');
});

test('printable text, Unicode included, is unchanged', () => {
  expect(cleanText('Contrôleur 10.1.4.17 “Upgraded” ✓')).toBe('Contrôleur 10.1.4.17 “Upgraded” ✓');
});
