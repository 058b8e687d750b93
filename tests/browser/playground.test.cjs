// Browser tests of the dagsmith playground in real headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core). scripts/test-browser.sh builds dist/, starts `dagsmith serve` and
// runs this file; it can also be run by hand against any server:
//
//   BASE_URL=http://127.0.0.1:8080 GENERATION=1 node tests/browser/playground.test.cjs
//
// BASE_URL     the playground's address (required)
// GENERATION   "1": the server has a model, run the generation tests; otherwise they are
//              reported as skipped with SKIP_REASON
// FAULT_INJECTION  "1": dist/ was built with `--features fault-injection` (scripts/
//              test-browser.sh does), so PANIC_INPUT makes the validator panic; otherwise the
//              test that needs it is reported as skipped
// ARTIFACTS    folder for screenshots (default tests/browser/artifacts)
// CHROMIUM     browser binary (default /usr/bin/chromium)
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");
const { chromium } = require("playwright-core");

const BASE_URL = process.env.BASE_URL;
const GENERATION = process.env.GENERATION === "1";
const FAULT_INJECTION = process.env.FAULT_INJECTION === "1";
const ARTIFACTS = process.env.ARTIFACTS || path.join(__dirname, "artifacts");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
if (!BASE_URL) {
  console.error("BASE_URL is required");
  process.exit(2);
}

const CYCLE_DAG = `from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(dag_id="loop", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    extract = EmptyOperator(task_id="extract")
    transform = EmptyOperator(task_id="transform")
    load = EmptyOperator(task_id="load")

    extract >> transform >> load
    load >> extract
`;
const CYCLE_LINE = 12; // `load >> extract`
const FIXED_DAG = CYCLE_DAG.replace("    load >> extract\n", "");
// web/src/worker.rs: in test builds, this input makes the validator panic.
const PANIC_INPUT = "# dagsmith-test: make the validator panic\n";
// Issue 12's crash: the interpreter's range unrolling overflowed. Fixed or not, the page must
// survive it.
const RANGE_OVERFLOW_DAG = `from datetime import datetime
from airflow import DAG

with DAG(dag_id="big", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    for i in range(-9223372036854775807, 9223372036854775807):
        pass
`;

// ---- a minimal harness ---------------------------------------------------------------------

const tests = [];
function test(name, fn, opts = {}) {
  tests.push({ name, fn, ...opts });
}

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

function assertEq(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}: expected ${e}, got ${a}`);
}

let browser;

async function newPage(options = {}) {
  const context = await browser.newContext({
    acceptDownloads: true,
    viewport: { width: 1440, height: 900 },
    ...options,
  });
  const page = await context.newPage();
  // Generation shares 2 CPU cores with everything else on CI machines: be patient.
  page.setDefaultTimeout(60000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.jsErrors = errors;
  return page;
}

/// Opens the app and waits until the wasm app has mounted and validated once.
async function openApp(page, url = BASE_URL + "/") {
  await page.goto(url);
  await page.waitForSelector("#app[data-validations]");
  await page.waitForFunction(() => Number(document.querySelector("#app").dataset.validations) > 0);
}

async function findings(page) {
  return page.$$eval("#findings li", (els) => els.map((e) => `${e.dataset.code}:${e.dataset.line}`));
}

async function setCode(page, code) {
  await page.fill("#code", code);
  // Validation is debounced: wait until the shown verdict belongs to this code.
  await page.waitForFunction(
    (expected) =>
      document.querySelector("#code").value === expected &&
      document.querySelector("#app").dataset.pending === "false",
    code,
  );
}

async function noJsErrors(page) {
  const relevant = page.jsErrors.filter((e) => !/Failed to load resource/.test(e));
  assertEq(relevant, [], "JavaScript errors on the page");
}

async function health() {
  const r = await fetch(BASE_URL + "/api/health");
  return r.json();
}

async function waitFor(what, fn, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- validation in the browser (no model needed) ------------------------------------------

test("a pasted DAG with a cycle: DS108 finding, marked line, red edges, jump to line", async () => {
  const page = await newPage();
  await openApp(page);
  await page.click("#own");
  await setCode(page, CYCLE_DAG);
  await page.waitForSelector('#findings li[data-code="DS108"]');
  assertEq(await page.getAttribute("#verdict", "data-loads"), "false", "verdict");
  assert(
    (await page.textContent("#verdict")).includes("would NOT load"),
    "the verdict says plainly that Airflow would not load it",
  );
  const f = await findings(page);
  assert(f.includes(`DS108:${CYCLE_LINE}`), `DS108 on line ${CYCLE_LINE}: ${f}`);
  // The offending line is marked in the code view and the gutter.
  const marked = await page.$$eval(".hl .line", (ls) =>
    ls.map((l, i) => (l.classList.contains("error") ? i + 1 : 0)).filter((n) => n),
  );
  assert(marked.includes(CYCLE_LINE), `line ${CYCLE_LINE} marked: ${marked}`);
  // Syntax highlighting: keywords and strings get their classes.
  assert((await page.$$(".hl .tok-kw")).length >= 4, "keywords highlighted");
  assert((await page.$$(".hl .tok-str")).length >= 4, "strings highlighted");
  // The graph: three cycle edges drawn red, the tasks on the cycle marked.
  const cycleEdges = await page.$$eval("#graph path.edge.cycle", (es) =>
    es.map((e) => `${e.dataset.from}>${e.dataset.to}`),
  );
  assertEq(cycleEdges.sort(), ["extract>transform", "load>extract", "transform>load"], "cycle edges");
  const stroke = await page.$eval("#graph path.edge.cycle", (e) => getComputedStyle(e).stroke);
  const [r, g, b] = stroke.match(/\d+/g).map(Number);
  assert(r > 150 && g < 90 && b < 90, `cycle edges are red, got ${stroke}`);
  assertEq(await page.$$eval("#graph g.node.in-cycle", (n) => n.length), 3, "tasks in the cycle");
  // A click on the finding selects the line in the editor.
  await page.click('#findings li[data-code="DS108"]');
  const sel = await page.$eval("#code", (t) => t.value.slice(t.selectionStart, t.selectionEnd));
  assertEq(sel, "    load >> extract", "the finding's line is selected");
  assert(await page.$eval("#code", (t) => document.activeElement === t), "editor focused");
  await page.screenshot({ path: path.join(ARTIFACTS, "cycle.png"), fullPage: true });

  // Typing a fix re-validates: the file loads, no red edges remain.
  await setCode(page, FIXED_DAG);
  await page.waitForSelector('#verdict[data-loads="true"]');
  assertEq(await page.$$eval("#graph path.edge.cycle", (e) => e.length), 0, "no cycle edges");
  assertEq(await page.$$eval("#graph path.edge", (e) => e.length), 2, "two edges");
  assert((await page.textContent("#verdict")).includes("would load"), "verdict text");
  await noJsErrors(page);
});

test("a finding's fix is one click: the code is rewritten and re-validated", async () => {
  const page = await newPage();
  await openApp(page);
  await page.click("#own");
  // Airflow 3 moved BashOperator to the standard provider: DS202 with a safe fix.
  const code = `from airflow.sdk import DAG
from airflow.operators.bash_operator import BashOperator
import pendulum

with DAG(dag_id="one_click", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule=None):
    BashOperator(task_id="hello", bash_command="echo hello")
`;
  await page.selectOption("#airflow-version", "3.1");
  await setCode(page, code);
  await page.waitForSelector('#verdict[data-loads="false"]');
  const button = await page.waitForSelector("#findings li.error button.apply-fix");
  assert((await button.textContent()).startsWith("Fix: "), "the button says what it does");
  await button.click();
  await page.waitForSelector('#verdict[data-loads="true"]');
  const fixed = await page.$eval("#code", (t) => t.value);
  assert(
    fixed.includes("from airflow.providers.standard.operators.bash import BashOperator"),
    `the import was rewritten: ${fixed}`,
  );
  assert(fixed.includes('BashOperator(task_id="hello"'), "the rest is kept");
  await noJsErrors(page);
});

test("the Airflow version select re-validates for that version", async () => {
  const page = await newPage();
  await openApp(page);
  // `days_ago` is gone in Airflow 3: the same file loads on 2.7 and not on 3.1.
  const code = `from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.utils.dates import days_ago

with DAG(dag_id="old", start_date=days_ago(1), schedule=None) as dag:
    EmptyOperator(task_id="a")
`;
  await page.selectOption("#airflow-version", "2.7");
  await setCode(page, code);
  await page.waitForSelector('#verdict[data-loads="true"]');
  await page.selectOption("#airflow-version", "3.1");
  await page.waitForSelector('#verdict[data-loads="false"]');
  assert((await page.textContent("#verdict")).includes("Airflow 3.1"), "verdict names 3.1");
  await noJsErrors(page);
});

test("share link round trip restores instruction, version, parameters, code and findings", async () => {
  const page = await newPage();
  await openApp(page);
  await page.fill("#instruction", "A DAG that loops — with «unicode»");
  await page.selectOption("#airflow-version", "2.9");
  await page.click(".params summary");
  await page.fill("#temperature", "0.7");
  await page.dispatchEvent("#temperature", "change");
  await page.fill("#seed", "1234");
  await page.dispatchEvent("#seed", "change");
  await setCode(page, CYCLE_DAG);
  const before = await findings(page);
  assert(before.length > 0, "findings before sharing");
  await page.click("#share");
  await page.waitForSelector("#share-url");
  const url = await page.inputValue("#share-url");
  assert(url.startsWith(BASE_URL + "/#d1."), `versioned fragment: ${url}`);
  assert(page.url() === url, "the address bar carries the link");

  // A fresh browser context: nothing but the URL carries the state.
  const other = await newPage();
  await openApp(other, url);
  await other.waitForSelector('#findings li[data-code="DS108"]');
  assertEq(await other.inputValue("#code"), CYCLE_DAG, "code");
  assertEq(await other.inputValue("#instruction"), "A DAG that loops — with «unicode»", "instruction");
  assertEq(await other.inputValue("#airflow-version"), "2.9", "version");
  assertEq(await other.inputValue("#temperature"), "0.7", "temperature");
  assertEq(await other.inputValue("#seed"), "1234", "seed");
  assertEq(await findings(other), before, "same findings");
  assertEq(await other.$$("#share-warnings"), [], "no warnings for an unchanged link");
  await noJsErrors(page);
  await noJsErrors(other);
});

test("a link from another validator version or with edited code warns; a damaged one says so", async () => {
  // Built here with Node's own deflate: the format is plain raw deflate + base64url JSON.
  const state = {
    validator: "0.0.1-old",
    instruction: "x",
    airflow_version: "3.1",
    code: FIXED_DAG,
    generated_hash: "0000000000000000",
    verdict: { loads: false, findings: ["DS999:1"] },
  };
  const payload = zlib.deflateRawSync(Buffer.from(JSON.stringify(state))).toString("base64url");
  const page = await newPage();
  await openApp(page, `${BASE_URL}/#d1.z.${payload}`);
  await page.waitForSelector("#share-warnings");
  const text = await page.textContent("#share-warnings");
  assert(text.includes("0.0.1-old"), `validator version warning: ${text}`);
  assert(text.includes("edited after the model generated it"), `edited warning: ${text}`);
  assert(text.includes("findings differ"), `findings warning: ${text}`);
  assertEq(await page.inputValue("#code"), FIXED_DAG, "code restored");
  await page.waitForSelector('#verdict[data-loads="true"]');

  const damaged = await newPage();
  await openApp(damaged, `${BASE_URL}/#d1.z.${payload.slice(0, 40)}`);
  await damaged.waitForSelector("#notice.error");
  assert((await damaged.textContent("#notice")).includes("damaged"), "damaged link message");
  const future = await newPage();
  await openApp(future, `${BASE_URL}/#d9.z.AAAA`);
  await future.waitForSelector("#notice.error");
  assert((await future.textContent("#notice")).includes("newer"), "newer format message");
});

test("own DAG: copy code, download .py, JSON and SARIF reports", async () => {
  const page = await newPage();
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await openApp(page);
  await page.click("#own");
  // Tab indents inside the editor instead of moving the focus.
  await page.focus("#code");
  await page.keyboard.press("Tab");
  await page.keyboard.type("x = 1");
  assertEq(await page.inputValue("#code"), "    x = 1", "Tab inserts four spaces");
  await setCode(page, CYCLE_DAG);
  await page.click("#copy-code");
  await page.waitForSelector("#notice.info");
  assertEq(await page.evaluate(() => navigator.clipboard.readText()), CYCLE_DAG, "clipboard");

  const download = async (button) => {
    const [d] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    const file = path.join(os.tmpdir(), `dagsmith-${process.pid}-${d.suggestedFilename()}`);
    await d.saveAs(file);
    const body = fs.readFileSync(file, "utf8");
    fs.unlinkSync(file);
    return { name: d.suggestedFilename(), body };
  };
  const py = await download("#download-py");
  assertEq(py, { name: "loop.py", body: CYCLE_DAG }, ".py download");
  const json = await download("#download-json");
  assertEq(json.name, "loop.report.json", "JSON name");
  const report = JSON.parse(json.body);
  assertEq(report[0].loads, false, "JSON verdict");
  assert(report[0].findings.some((f) => f.code === "DS108"), "JSON has DS108");
  const sarif = await download("#download-sarif");
  const log = JSON.parse(sarif.body);
  assertEq(log.version, "2.1.0", "SARIF version");
  assert(log.runs[0].results.some((r) => r.ruleId === "DS108"), "SARIF has DS108");
  await noJsErrors(page);
});

test("dark mode follows the system colour scheme", async () => {
  const bg = async (colorScheme) => {
    const page = await newPage({ colorScheme });
    await openApp(page);
    const c = await page.$eval("body", (b) => getComputedStyle(b).backgroundColor);
    await page.context().close();
    return c.match(/\d+/g).slice(0, 3).map(Number);
  };
  const light = await bg("light");
  const dark = await bg("dark");
  assert(light.every((v) => v > 200), `light background ${light}`);
  assert(dark.every((v) => v < 60), `dark background ${dark}`);
});

test("a clear message when the server or the model is unavailable (mocked /api/health)", async () => {
  // The real server's health is covered by the generation tests; here the two failure
  // answers are simulated to check what the page says.
  const noModel = await newPage();
  await noModel.route("**/api/health", (route) =>
    route.fulfill({
      contentType: "application/json",
      body: JSON.stringify({
        status: "ok",
        version: "0.1.0",
        generation: { available: false, reason: "no model loaded" },
        model: null,
        slots: { total: 0, busy: 0 },
        queue: 0,
      }),
    }),
  );
  await openApp(noModel);
  await noModel.waitForSelector("#health.down");
  assert((await noModel.textContent("#health")).includes("Model unavailable: no model loaded"), "no model");
  const down = await newPage();
  await down.route("**/api/**", (route) => route.abort("connectionrefused"));
  await openApp(down);
  await down.waitForSelector("#health.down");
  assert((await down.textContent("#health")).includes("Server unavailable"), "server down");
  // Generating then fails with a message, and validation still works.
  await down.fill("#instruction", "anything");
  await down.click("#generate");
  await down.waitForSelector("#notice.error");
  assert((await down.textContent("#notice")).includes("Generation unavailable"), "generate error");
  await setCode(down, CYCLE_DAG);
  await down.waitForSelector('#findings li[data-code="DS108"]');
});

test(
  "a validator panic shows 'the validator failed on this input', and the next file validates",
  async () => {
    const page = await newPage();
    await openApp(page);
    await page.click("#own");
    await setCode(page, CYCLE_DAG);
    await page.waitForSelector('#findings li[data-code="DS108"]');
    const workers = page.workers().length;

    // The validator panics (wasm aborts) in its worker: the page says so and shows no findings,
    // not the previous file's.
    await setCode(page, PANIC_INPUT);
    await page.waitForSelector('#verdict[data-failed="true"]');
    const verdict = await page.textContent("#verdict");
    assert(verdict.includes("the validator failed on this input"), `verdict: ${verdict}`);
    assert(verdict.includes("fault injected for a test"), `the panic's message: ${verdict}`);
    assertEq(await findings(page), [], "no findings shown after a failure");
    assertEq(await page.getAttribute("#verdict", "data-loads"), "false", "no verdict");
    assert((await page.textContent("#graph")).includes("validator failed"), "graph says so");
    await page.screenshot({ path: path.join(ARTIFACTS, "validator-failed.png"), fullPage: true });

    // A normal file right after: a new worker validates it.
    await setCode(page, CYCLE_DAG);
    await page.waitForSelector('#findings li[data-code="DS108"]');
    assertEq(await page.getAttribute("#verdict", "data-failed"), "false", "failure cleared");
    await setCode(page, FIXED_DAG);
    await page.waitForSelector('#verdict[data-loads="true"]');
    // Again: every panic costs one worker, never the page.
    await setCode(page, PANIC_INPUT);
    await page.waitForSelector('#verdict[data-failed="true"]');
    await setCode(page, FIXED_DAG);
    await page.waitForSelector('#verdict[data-loads="true"]');
    assert(page.workers().length <= workers + 1, `workers are replaced, not piled up: ${page.workers().length}`);
    await noJsErrors(page);
  },
  { faultInjection: true },
);

test("issue 12's overflowing range does not take the page down", async () => {
  const page = await newPage();
  await openApp(page);
  await page.click("#own");
  await setCode(page, RANGE_OVERFLOW_DAG);
  // A verdict (the validator copes) or the failure message (it does not): either way, shown.
  const failed = await page.getAttribute("#verdict", "data-failed");
  const text = await page.textContent("#verdict");
  assert(
    failed === "true" ? text.includes("the validator failed on this input") : /would (NOT )?load/.test(text),
    `verdict ${failed}: ${text}`,
  );
  await setCode(page, CYCLE_DAG);
  await page.waitForSelector('#findings li[data-code="DS108"]');
  await setCode(page, FIXED_DAG);
  await page.waitForSelector('#verdict[data-loads="true"]');
  await noJsErrors(page);
});

// ---- generation against `dagsmith serve` with a model -------------------------------------

async function generateWith(page, { instruction, maxTokens, repair = 0 }) {
  await page.fill("#instruction", instruction);
  await page.click(".params summary");
  await page.fill("#max-tokens", String(maxTokens));
  await page.dispatchEvent("#max-tokens", "change");
  await page.fill("#repair", String(repair));
  await page.dispatchEvent("#repair", "change");
  await page.focus("#instruction");
  await page.keyboard.press("Control+Enter");
  await page.waitForSelector('#app[data-running="true"]');
}

test(
  "generate: the DAG streams in, then findings, verdict, graph and recents",
  async () => {
    const page = await newPage();
    await openApp(page);
    await page.waitForSelector("#health.up");
    await generateWith(page, {
      instruction: "Write an Airflow DAG that runs a bash command daily.",
      maxTokens: 48,
    });
    // Code appears while streaming, with live tokens and tokens/s.
    await page.waitForFunction(() => Number(document.querySelector("#tokens").textContent.split(" ")[0]) > 0);
    await page.waitForSelector('#app[data-running="false"]', { timeout: 300000 });
    const notice = (await page.$("#notice")) ? await page.textContent("#notice") : "";
    assert(!/failed|unavailable|ended the stream/i.test(notice), `generation ok: ${notice}`);
    const code = await page.inputValue("#code");
    assert(code.trim().length > 0, "code appeared");
    assert(!code.trimStart().startsWith("```"), "the opening fence is stripped");
    assert(Number((await page.textContent("#tokens")).split(" ")[0]) > 0, "token count");
    assert(parseFloat(await page.textContent("#tps")) > 0, "tokens/s");
    assertEq(await page.$$eval("#attempts .attempt", (a) => a.length), 1, "one attempt");
    // Findings are shown, consistent with the verdict.
    await page.waitForTimeout(400);
    const loads = await page.getAttribute("#verdict", "data-loads");
    const errs = await page.$$eval("#findings li.error", (l) => l.length);
    assert(loads === "true" ? errs === 0 : errs > 0, `verdict ${loads} with ${errs} errors`);
    assert((await findings(page)).length > 0 || loads === "true", "findings shown");
    assertEq(await page.$$eval("#recents li", (l) => l.length), 1, "kept in recent generations");
    assertEq(await page.$$("#edited"), [], "not edited yet");
    await page.screenshot({ path: path.join(ARTIFACTS, "playground.png"), fullPage: true });

    // Edit, share: the link says the code is not the model's output any more.
    await page.click("#code");
    await page.keyboard.press("Control+End");
    await page.keyboard.type("# edited by hand\n");
    await page.waitForSelector("#edited");
    await page.click("#share");
    await page.waitForSelector("#share-url");
    const other = await newPage();
    await openApp(other, await page.inputValue("#share-url"));
    await other.waitForSelector("#share-warnings");
    assert((await other.textContent("#share-warnings")).includes("edited after"), "edited warning");
    assertEq(await other.inputValue("#code"), code + "# edited by hand\n", "edited code restored");
    // Recents survive a reload (localStorage).
    await page.reload();
    await page.waitForSelector("#recents li");
    await noJsErrors(page);
  },
  { generation: true },
);

test(
  "Stop (Esc) aborts the stream and the server frees the slot",
  async () => {
    const page = await newPage();
    await openApp(page);
    await page.waitForSelector("#health.up");
    await generateWith(page, {
      instruction: "Write a very long Airflow DAG with fifty tasks, each documented at length.",
      maxTokens: 2000,
    });
    await page.waitForFunction(() => Number(document.querySelector("#tokens").textContent.split(" ")[0]) >= 5);
    assertEq((await health()).slots.busy, 1, "a slot is busy while generating");
    await page.keyboard.press("Escape");
    await page.waitForSelector('#app[data-running="false"]', { timeout: 3000 });
    assert((await page.textContent("#notice")).includes("Stopped"), "stopped message");
    const tokens = await page.textContent("#tokens");
    await page.waitForTimeout(1500);
    assertEq(await page.textContent("#tokens"), tokens, "no tokens after Stop");
    await waitFor("the server to free the slot", async () => (await health()).slots.busy === 0);
    // The Stop button works too.
    await page.click("#generate");
    await page.waitForFunction(() => Number(document.querySelector("#tokens").textContent.split(" ")[0]) >= 2);
    await page.click("#stop");
    await page.waitForSelector('#app[data-running="false"]', { timeout: 3000 });
    await waitFor("the server to free the slot", async () => (await health()).slots.busy === 0);
  },
  { generation: true },
);

test(
  "repair rounds: every attempt can be viewed",
  async () => {
    const page = await newPage();
    await openApp(page);
    await generateWith(page, { instruction: "A DAG with two tasks.", maxTokens: 24, repair: 1 });
    await page.waitForSelector('#app[data-running="false"]', { timeout: 300000 });
    const attempts = await page.$$eval("#attempts .attempt", (a) => a.map((b) => b.dataset.attempt));
    assert(attempts.length >= 1 && attempts[0] === "0", `attempts ${attempts}`);
    for (let i = 0; i < attempts.length; i++) {
      await page.click(`#attempts .attempt:nth-child(${i + 1})`);
      assert(
        await page.$eval(`#attempts .attempt:nth-child(${i + 1})`, (b) => b.classList.contains("active")),
        `attempt ${i} shown`,
      );
    }
    await noJsErrors(page);
  },
  { generation: true },
);

// ---- run -----------------------------------------------------------------------------------

(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    // Quiet, offline-friendly Chromium (../shared/notes/wasm-toolchain.md).
    args: [
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  let failed = 0;
  let skipped = 0;
  for (const t of tests) {
    if (t.generation && !GENERATION) {
      skipped++;
      console.log(`skip  ${t.name} (${process.env.SKIP_REASON || "GENERATION is not 1"})`);
      continue;
    }
    if (t.faultInjection && !FAULT_INJECTION) {
      skipped++;
      console.log(`skip  ${t.name} (dist/ built without --features fault-injection)`);
      continue;
    }
    const start = Date.now();
    try {
      await t.fn();
      console.log(`ok    ${t.name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL  ${t.name}\n      ${String(e.stack || e).split("\n").join("\n      ")}`);
    }
    for (const context of browser.contexts()) await context.close();
  }
  await browser.close();
  const ran = tests.length - skipped;
  console.log(`browser tests: ${ran - failed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
