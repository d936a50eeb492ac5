// ChatTemplateRenderer: a model's chat template(s) compiled once, rendering chat requests into
// prompt text the way vLLM calls transformers' apply_chat_template:
//   render(messages=..., tools=tools or None, documents=None, add_generation_prompt=...,
//          **special_tokens (bos_token, eos_token, ...), **chat_template_kwargs)
// plus `thinking_budget` (the request field wins over chat_template_kwargs.thinking_budget;
// left out entirely when absent so `thinking_budget is defined` stays false).
// Usage: ChatTemplateRenderer.fromModelDir(dir).render({ messages, tools, thinkingBudget }).
// Tests: chat-template-renderer.spec.ts.
import { ChatTemplate, TemplateContext } from './chat-template';
import { loadChatTemplates, selectTemplate } from './chat-template-loader';
import { ChatMessage, ChatTool, coerceThinkingBudget, prepareMessages, prepareTools } from './chat-messages';

export interface ChatTemplateRequest {
  messages: ChatMessage[];
  tools?: ChatTool[] | null;
  /** Append the assistant turn header (default true, as for chat completions). */
  addGenerationPrompt?: boolean;
  /** Seed-OSS thinking budget in tokens (-1 unlimited, 0 no thinking). */
  thinkingBudget?: number | string | null;
  /** Extra template variables (vLLM's chat_template_kwargs); may override the defaults above. */
  chatTemplateKwargs?: Record<string, unknown> | null;
  /** A named template of the model ("tool_use", ...); default per selectTemplate. */
  templateName?: string;
}

export class ChatTemplateRenderer {
  private readonly compiled = new Map<string, ChatTemplate>();

  constructor(
    private readonly templates: Record<string, string>,
    /** bos_token, eos_token, ... handed to every render. */
    readonly specialTokens: Record<string, string> = {},
  ) {}

  static fromModelDir(modelDir: string): ChatTemplateRenderer {
    const { templates, specialTokens } = loadChatTemplates(modelDir);
    return new ChatTemplateRenderer(templates, specialTokens);
  }

  get templateNames(): string[] {
    return Object.keys(this.templates);
  }

  /** The template context for a request (exposed for tests and debugging). */
  buildContext(request: ChatTemplateRequest): TemplateContext {
    const hasTools = Array.isArray(request.tools) && request.tools.length > 0;
    const context: TemplateContext = {
      ...this.specialTokens,
      messages: prepareMessages(request.messages),
      tools: hasTools ? prepareTools(request.tools!) : null,
      documents: null,
      add_generation_prompt: request.addGenerationPrompt ?? true,
      ...(request.chatTemplateKwargs ?? {}),
    };
    if (request.thinkingBudget !== undefined && request.thinkingBudget !== null) {
      context.thinking_budget = request.thinkingBudget;
    }
    if (context.thinking_budget === null) delete context.thinking_budget;
    else if (context.thinking_budget !== undefined) context.thinking_budget = coerceThinkingBudget(context.thinking_budget);
    return context;
  }

  /** Prompt text for the request; throws ChatTemplateInputError or TemplateRenderError. */
  render(request: ChatTemplateRequest): string {
    const hasTools = Array.isArray(request.tools) && request.tools.length > 0;
    return this.template(request.templateName, hasTools).render(this.buildContext(request));
  }

  private template(name: string | undefined, hasTools: boolean): ChatTemplate {
    const source = selectTemplate(this.templates, { name, hasTools });
    let compiled = this.compiled.get(source);
    if (!compiled) {
      compiled = new ChatTemplate(source);
      this.compiled.set(source, compiled);
    }
    return compiled;
  }
}
