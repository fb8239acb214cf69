import { terminalHtml } from '../fixtures/terminal-screenshot';

// The newcomer test's screenshot is only as true as this translation of the tmux capture.
const body = (capture: string) => /<pre id="terminal">([\s\S]*)<\/pre>/.exec(terminalHtml(capture, 120))![1];

test('colours and attributes become styles, and a reset ends them', () => {
  expect(body('\x1b[31mred\x1b[39m plain \x1b[1;38;5;46mbold green\x1b[0m')).toBe(
    '<span style="color:#cd0000">red</span> plain <span style="color:#00ff00;font-weight:bold">bold green</span>',
  );
  expect(body('\x1b[38;2;1;2;3;48;5;232mx\x1b[49my')).toBe(
    '<span style="color:rgb(1,2,3);background:#080808">x</span><span style="color:rgb(1,2,3)">y</span>',
  );
  expect(body('\x1b[7minverse\x1b[27m\x1b[mnormal')).toBe(
    '<span style="color:#000000;background:#e5e5e5">inverse</span>normal',
  );
});

test('text is escaped, and what a terminal would act on rather than show is dropped', () => {
  expect(body('<b>&</b>')).toBe('&lt;b&gt;&amp;&lt;/b&gt;');
  expect(body('a\x1b[2J\x1b[3Fb\x1b]0;title\x07c\x1b]8;;http://x\x1b\\d\x1b7e\x1b(Bf')).toBe('abcdef');
  expect(body('│ IP │\n└─┘')).toBe('│ IP │\n└─┘');
});
