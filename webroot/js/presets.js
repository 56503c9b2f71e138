// The preset models and the vLLM command that serves each on a Hyperstack VM: the same models, vLLM image and
// arguments as terraform/variables.tf. {port} is replaced by the replica's port.

export const VLLM_IMAGE = 'vllm/vllm-openai:v0.8.5';

export const PRESETS = [
  {
    model: 'NousResearch/Meta-Llama-3.1-8B-Instruct',
    flavor: 'n1-RTX-A6000x1',
    args: ['--gpu-memory-utilization', '0.9', '--max-model-len', '15360', '--enable-auto-tool-choice',
      '--tool-call-parser', 'llama3_json', '--chat-template', '/vllm-workspace/examples/tool_chat_template_llama3.1_json.jinja'],
  },
  {
    model: 'microsoft/Phi-3-medium-128k-instruct',
    flavor: 'n1-RTX-A6000x1',
    args: ['--gpu-memory-utilization', '0.9', '--max-model-len', '15360'],
  },
];

export const DEFAULT_IMAGE = 'Ubuntu Server 22.04 LTS R535 CUDA 12.2';

/** The run command of a preset, as the VM's start-up runs it. */
export function runCommand(preset, port) {
  return ['docker run -d --restart unless-stopped --gpus all --ipc=host',
    `-p ${port}:${port} -v /ephemeral/hf-cache:/root/.cache/huggingface`,
    `${VLLM_IMAGE} --model ${preset.model} --host 0.0.0.0 --port ${port}`,
    preset.args.join(' ')].join(' ');
}
