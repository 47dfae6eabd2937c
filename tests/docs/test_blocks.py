"""The docs test's extractor (tests/docs/blocks.py): fences, markers, commands, example headers."""
from __future__ import annotations

from .blocks import (
    fill_placeholders,
    header_blocks,
    markdown_blocks,
    parse_marker,
    shell_commands,
)

MD = """# T

<!-- docs-test: skip (reason: needs a GPU; two of them) -->
```bash
xnn train a.yaml --out r
```

text

<!-- docs-test: expect-fail -->

<!-- docs-test: timeout 20 -->
```console
$ xnn validate bad.yaml
error: something
$ xnn train x.yaml \\
>   --out r
output
```

- a list item:

  ```python
  print("indented")
  ```

````text
```bash
not a block of its own
```
````

<!-- docs-test: skip -->
```sh
true
```

<!-- docs-test: sometimes -->
stray prose
"""


def test_markdown_blocks_and_markers():
    bs = markdown_blocks(MD, "t.md")
    by_line = {b.line: b for b in bs}
    assert by_line[4].kind == "shell" and by_line[4].skip == "needs a GPU; two of them" and not by_line[4].problems
    c = by_line[13]
    assert c.kind == "console" and c.expect_fail and c.timeout == 20
    assert shell_commands(c) == ["xnn validate bad.yaml", "xnn train x.yaml \\\n  --out r"]
    assert by_line[23].kind == "python" and by_line[23].code == 'print("indented")\n'
    assert by_line[27].kind == "text" and "```bash" in by_line[27].code
    assert by_line[34].kind == "shell" and by_line[34].problems            # a skip needs a reason
    orphan = [b for b in bs if b.kind == "problem"]
    assert len(orphan) == 1 and "sometimes" in orphan[0].problems[0]
    assert len(bs) == 6


def test_marker_directives():
    assert parse_marker("skip (reason: a; b)") == ({"skip": "a; b"}, [])
    assert parse_marker("timeout 300; expect-fail") == ({"timeout": 300.0, "expect_fail": True}, [])
    opts, problems = parse_marker("skip")
    assert opts["skip"] and "needs a reason" in problems[0]
    assert "unknown docs-test directive" in parse_marker("often")[1][0]


def test_shell_commands_join_continuations_and_quotes():
    code = ("# a comment\n\nxnn a \\\n  --b c   # trailing comment isn't a problem\n"
            "TF_CONFIG='{\"a\": 1,\n  \"b\": 2}' \\\n  python -c 'print(1)'\necho done\n")
    from .blocks import Block
    cmds = shell_commands(Block("t.md", 1, "bash", "shell", code))
    assert cmds == ["xnn a \\\n  --b c   # trailing comment isn't a problem",
                    "TF_CONFIG='{\"a\": 1,\n  \"b\": 2}' \\\n  python -c 'print(1)'", "echo done"]


def test_example_headers():
    m = """% demo.m - a demo.
%
%   xnn export runs/demo --mat model.mat      (in a shell, with xnn installed)
%   then, in MATLAB or Octave:
%     addpath('<xnn checkout>/matlab');   % the folder that contains +xnn
%     run('<xnn checkout>/examples/demo.m')
%
% docs-test: skip (reason: MATLAB only)
%   >> net = xnn.toDlnetwork(model);
x = 1;
% not help text any more
%   xnn never
"""
    bs = header_blocks(m, "examples/demo.m", "%")
    assert [(b.line, b.kind) for b in bs] == [(3, "shell"), (5, "octave"), (9, "octave")]
    assert bs[0].code == "xnn export runs/demo --mat model.mat\n"
    assert bs[1].code.splitlines()[1] == "run('<xnn checkout>/examples/demo.m')"
    assert bs[2].skip == "MATLAB only"
    assert "/path/to/xnn" not in fill_placeholders("addpath('/path/to/xnn/matlab')")
    y = "# An example.\n#   $ xnn train examples/a.yaml \\\n#       --out r\n# prose\nxnn: 1\n# xnn nope\n"
    (b,) = header_blocks(y, "examples/a.yaml", "#")
    assert b.kind == "shell" and shell_commands(b) == ["xnn train examples/a.yaml \\\n--out r"]
