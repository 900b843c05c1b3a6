// Writes docs/node-suite.md: every it(…) case of socket.io's own server tests, with its status here.
//
//   node Server.Tests/node/nodesuite-table.js <socket.io package's test folder>
//
// The cases come from the reference test files (the folder of socket.io 4.8's packages/socket.io/test); a case is
// "ported" when a test in Server.Tests/NodeSuite carries its title as [Test(Description = "…")] (tests inside
// `#if NODESUITE_FAILING` do not count); every other case keeps the status and reason the table already gives it
// ("pending", "fails", "not applicable"), "pending" when it is new. Titles inside a nested describe(…) are written
// "describe › title"; a title repeated in one file gets " (2)".
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..", "..");
const refDir = process.argv[2];
if (!refDir) {
  console.error("usage: node Server.Tests/node/nodesuite-table.js <socket.io/test folder>");
  process.exit(2);
}

// reference file -> fixture class
const files = [
  ["socket.ts", "SocketTests"],
  ["namespaces.ts", "NamespacesTests"],
  ["messaging-many.ts", "MessagingManyTests"],
  ["middleware.ts", "MiddlewareTests"],
  ["socket-middleware.ts", "SocketMiddlewareTests"],
  ["socket-timeout.ts", "SocketTimeoutTests"],
  ["utility-methods.ts", "UtilityMethodsTests"],
  ["connection-state-recovery.ts", "ConnectionStateRecoveryTests"],
  ["close.ts", "CloseTests"],
  ["handshake.ts", "HandshakeTests"],
  ["server-attachment.ts", "ServerAttachmentTests"],
  ["v2-compatibility.ts", "V2CompatibilityTests"],
  ["uws.ts", null],
  ["socket.io.test-d.ts", null],
];

function cases(file) {
  const lines = fs.readFileSync(path.join(refDir, file), "utf8").split("\n");
  const stack = [];
  const out = [];
  const seen = new Map();
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(describe|it)(?:\.only|\.skip)?\(\s*(?:(["'`])(.*?)\3)?/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    let title = m[4];
    if (title === undefined) {
      const next = /^\s*(["'`])(.*?)\1/.exec(lines[i + 1] || "");
      if (!next) continue;
      title = next[2];
    }
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    if (m[2] === "describe") {
      stack.push({ indent, title });
      continue;
    }
    // the outermost describe names the file's subject; deeper ones are part of the case's name
    const prefix = stack.slice(1).map((d) => d.title);
    let name = [...prefix, title].join(" › ");
    const n = (seen.get(name) || 0) + 1;
    seen.set(name, n);
    if (n > 1) name += ` (${n})`;
    out.push(name);
  }
  return out;
}

// ported tests: [Test(Description = "…")] then the method, outside #if NODESUITE_FAILING
function ported() {
  const dir = path.join(root, "Server.Tests", "NodeSuite");
  const result = new Map(); // class -> Map(title -> method)
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".cs"))) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    const cls = /class (\w+)\s*:\s*NodeSuiteFixture/.exec(text);
    if (!cls) continue;
    // a fixture may be split over several files (partial classes)
    const tests = result.get(cls[1]) || new Map();
    let failing = false;
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (/^#if NODESUITE_FAILING/.test(lines[i])) failing = true;
      if (/^#endif/.test(lines[i])) failing = false;
      const d = /\[Test\(Description = "((?:[^"\\]|\\.)*)"\)\]/.exec(lines[i]);
      if (!d || failing) continue;
      const method = /public (?:async )?(?:Task|void) (\w+)\(/.exec(lines[i + 1]);
      tests.set(JSON.parse(`"${d[1]}"`), method ? method[1] : "?");
    }
    result.set(cls[1], tests);
  }
  return result;
}

const docPath = path.join(root, "docs", "node-suite.md");
const previous = new Map();
if (fs.existsSync(docPath)) {
  for (const line of fs.readFileSync(docPath, "utf8").split("\n")) {
    const m = /^\| `([^`]+)` \| (.*) \| (ported|pending|fails|not applicable) \| (.*) \|$/.exec(line);
    if (m) previous.set(m[1] + "\0" + m[2].replace(/\\\|/g, "|"), { status: m[3], note: m[4] });
  }
}

const tests = ported();
const rows = [];
const counts = { ported: 0, pending: 0, fails: 0, "not applicable": 0 };
const perFile = [];
for (const [file, cls] of files) {
  const fileCounts = { ported: 0, pending: 0, fails: 0, "not applicable": 0 };
  const used = new Set();
  for (const title of cases(file)) {
    let status;
    let note;
    const test = cls && tests.get(cls) && tests.get(cls).get(title);
    const old = previous.get(file + "\0" + title);
    if (test) {
      status = "ported";
      note = "`" + cls + "." + test + "`";
      // a ported row may say more after the test's name (how the .NET form differs); that is kept
      const more = old && old.status === "ported" ? /^`[^`]*`(.*)$/.exec(old.note) : null;
      if (more && more[1]) note += more[1];
      used.add(title);
    } else {
      if (old && old.status !== "ported") {
        status = old.status;
        note = old.note;
      } else {
        status = "pending";
        note = "";
      }
    }
    counts[status]++;
    fileCounts[status]++;
    rows.push(`| \`${file}\` | ${title.replace(/\|/g, "\\|")} | ${status} | ${note} |`);
  }
  if (cls && tests.get(cls)) {
    for (const title of tests.get(cls).keys()) {
      if (!used.has(title)) {
        console.error(`${cls}: no case titled "${title}" in ${file}`);
        process.exitCode = 1;
      }
    }
  }
  perFile.push(`| \`${file}\` | ${Object.values(fileCounts).reduce((a, b) => a + b, 0)} | ${fileCounts.ported} | ${fileCounts.pending} | ${fileCounts.fails} | ${fileCounts["not applicable"]} |`);
}
const total = rows.length;

const doc = `# socket.io's own server tests, ported

Every \`it(…)\` case of socket.io 4.8's server tests (\`packages/socket.io/test/*.ts\`) and what became of it here.
A ported case is an NUnit test in \`Server.Tests/NodeSuite\` whose \`[Test(Description = …)]\` is the case's title: our
server (the library on Kestrel, 127.0.0.1 and a free port) driven by the real socket.io-client 4.8.1 through
\`Server.Tests/node/nodesuite-driver.js\` (one Node process per fixture), or by raw frames where the case sends what no
client would. \`NodeSuiteTableTests\` checks that this table and the tests agree.

- **ported**: the test that runs the case.
- **pending**: the case needs server API that is not there yet (named).
- **fails**: ported, and the server answers differently (what differs); the test sits inside \`#if NODESUITE_FAILING\`
  in its fixture (\`dotnet test -p:DefineConstants=NODESUITE_FAILING\` runs it).
- **not applicable**: the case tests something of Node alone (the reason).

The table is written by \`node Server.Tests/node/nodesuite-table.js <socket.io>/packages/socket.io/test\`, which keeps the
status and reason of every case not ported.

## Counts

| file | cases | ported | pending | fails | not applicable |
|---|---|---|---|---|---|
${perFile.join("\n")}
| **all** | **${total}** | **${counts.ported}** | **${counts.pending}** | **${counts.fails}** | **${counts["not applicable"]}** |

## Cases

| file | case | status | test, or why not |
|---|---|---|---|
${rows.join("\n")}
`;
fs.writeFileSync(docPath, doc);

// the README's sentence with the counts
const readmePath = path.join(root, "README.md");
const readme = fs.readFileSync(readmePath, "utf8");
const sentence = `${total} cases of socket.io's own server tests: ${counts.ported} ported, ${counts.pending} pending, ${counts.fails} failing, ${counts["not applicable"]} not applicable`;
const updated = readme.replace(/\d+ cases of socket\.io's own server tests: \d+ ported, \d+ pending, \d+ failing, \d+ not applicable/, sentence);
if (updated === readme && !readme.includes(sentence)) console.error("README.md has no sentence with the counts to update");
fs.writeFileSync(readmePath, updated);
console.log(`${total} cases: ${counts.ported} ported, ${counts.pending} pending, ${counts.fails} fails, ${counts["not applicable"]} not applicable`);
