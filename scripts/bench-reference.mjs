// Reference generation benchmark with node-llama-cpp (llama.cpp's prebuilt binaries, npm), run
// by scripts/bench-generate.sh beside `dagsmith bench generate`: same model, same prompts
// (the first P instructions of datasets/instructions.jsonl with dagsmith's system prompt), same
// thread count, greedy, same max tokens. Prints one JSON object.
//
// usage: node bench-reference.mjs MODEL.gguf INSTRUCTIONS.jsonl THREADS MAX_TOKENS P[,P...]
import fs from "node:fs";
import { getLlama, LlamaChatSession } from "node-llama-cpp";

const [modelPath, instructionsPath, threadsArg, maxTokensArg, parallelArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const maxTokens = Number(maxTokensArg);
const levels = parallelArg.split(",").map(Number);

const rows = fs.readFileSync(instructionsPath, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const prompts = rows.map((r) => ({
  system: r.messages.find((m) => m.role === "system").content,
  user: r.messages.find((m) => m.role === "user").content,
}));

const llama = await getLlama({ gpu: false, logLevel: "error" });
const model = await llama.loadModel({ modelPath });

async function run(parallel, limit) {
  const context = await model.createContext({
    sequences: parallel,
    contextSize: parallel * (limit + 512),
    batchSize: 512,
    threads,
  });
  let tokens = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async (_, i) => {
      const p = prompts[i % prompts.length];
      const session = new LlamaChatSession({
        contextSequence: context.getSequence(),
        systemPrompt: p.system,
      });
      await session.prompt(p.user, {
        maxTokens: limit,
        temperature: 0,
        onToken: (t) => {
          tokens += t.length;
        },
      });
    }),
  );
  const wall = (performance.now() - start) / 1000;
  await context.dispose();
  return { tokens, wall };
}

await run(1, 8); // warm-up, as dagsmith's bench does
const results = [];
for (const parallel of levels) {
  const { tokens, wall } = await run(parallel, maxTokens);
  results.push({
    parallel,
    generated_tokens: tokens,
    wall_seconds: wall,
    aggregate_tokens_per_second: tokens / wall,
    answers_per_second: parallel / wall,
  });
}
console.log(JSON.stringify({ implementation: "node-llama-cpp 3.22.1", threads, max_tokens: maxTokens, results }, null, 2));
