// Copy-ready client code for the gateway's OpenAI-compatible API (Home and Playground).

export function baseUrl() {
  return `${location.origin}/v1`;
}

const json = (v) => JSON.stringify(v, null, 2);

/** A request body with one line per field and per message, values inline: short, and still readable. */
function compactJson(body) {
  const lines = Object.entries(body).map(([k, v]) => {
    if (Array.isArray(v) && v.length > 1) {
      return `  ${JSON.stringify(k)}: [\n${v.map((x) => `    ${inline(x)}`).join(',\n')}\n  ]`;
    }
    return `  ${JSON.stringify(k)}: ${inline(v)}`;
  });
  return `{\n${lines.join(',\n')}\n}`;
}

/** JSON on one line with a space after each colon and comma. */
function inline(v) {
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

/** The request body of a chat completion with the given settings. */
export function chatBody({ model, messages, temperature, max_tokens, presence_penalty, frequency_penalty, stream }) {
  const body = { model, messages };
  if (temperature !== undefined && temperature !== null) body.temperature = temperature;
  if (max_tokens) body.max_tokens = max_tokens;
  if (presence_penalty) body.presence_penalty = presence_penalty;
  if (frequency_penalty) body.frequency_penalty = frequency_penalty;
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true }; // the last event then carries the token counts
  }
  return body;
}

function shellQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function curl(body) {
  return `curl ${body.stream ? '-N ' : ''}${baseUrl()}/chat/completions \\
  -H "Authorization: Bearer $API_KEY" \\
  -H 'Content-Type: application/json' \\
  -d ${shellQuote(compactJson(body))}`;
}

function pyValue(v, indent) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[\n${v.map((x) => `${pad}    ${pyValue(x, indent + 4)}`).join(',\n')},\n${pad}]`;
  }
  if (v && typeof v === 'object') {
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyValue(x, indent)}`).join(', ')}}`;
  }
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null) return 'None';
  return JSON.stringify(v);
}

export function python(body) {
  const args = Object.entries(body).filter(([k]) => k !== 'stream' && k !== 'stream_options')
    .map(([k, v]) => `    ${k}=${pyValue(v, 4)},`).join('\n');
  const head = `from openai import OpenAI

client = OpenAI(base_url=${JSON.stringify(baseUrl())}, api_key=os.environ["API_KEY"])
`;
  if (body.stream) {
    return `import os\n${head}
stream = client.chat.completions.create(
${args}
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    print(chunk.choices[0].delta.content or "", end="", flush=True)
print()`;
  }
  return `import os\n${head}
reply = client.chat.completions.create(
${args}
)
print(reply.choices[0].message.content)`;
}

export function node(body) {
  const args = JSON.stringify(body, null, 2).split('\n').map((l, i) => (i ? `  ${l}` : l)).join('\n');
  const head = `import OpenAI from "openai";

const client = new OpenAI({ baseURL: ${JSON.stringify(baseUrl())}, apiKey: process.env.API_KEY });
`;
  if (body.stream) {
    return `${head}
const stream = await client.chat.completions.create(${args});
for await (const chunk of stream) {
  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
}`;
  }
  return `${head}
const reply = await client.chat.completions.create(${args});
console.log(reply.choices[0].message.content);`;
}
