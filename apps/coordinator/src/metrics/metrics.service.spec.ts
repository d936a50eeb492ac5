// MetricsService: every value under tpserve's name and vLLM's (with model_name), equal; the
// vLLM counters of prefix-cache queries/hits and preemptions follow the scheduler's totals.
import { describe, expect, it } from 'vitest';
import type { SchedulerStats } from '../../../../libs/scheduler/src/scheduler-output';
import { MetricsService } from './metrics.service';

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  if (line === undefined) throw new Error(`no series ${series}`);
  return Number(line.slice(series.length + 1));
}

const stats = (over: Partial<SchedulerStats>): SchedulerStats => ({
  numRunning: 0, numWaiting: 0, numFreeBlocks: 0, kvUsage: 0, prefixCacheHitRate: 0, numPrefixQueryTokens: 0, numPrefixHitTokens: 0, numPreemptions: 0, ...over,
});

describe('MetricsService', () => {
  it('exports each value under both names', async () => {
    const m = new MetricsService('org/model');
    const label = '{model_name="org/model"}';
    m.recordSchedulerStats(stats({ numRunning: 3, numWaiting: 5, kvUsage: 0.25, numPrefixQueryTokens: 100, numPrefixHitTokens: 40, numPreemptions: 2 }));
    m.recordSchedulerStats(stats({ numRunning: 1, numWaiting: 2, kvUsage: 0.5, numPrefixQueryTokens: 130, numPrefixHitTokens: 50, numPreemptions: 3 }));
    m.recordPromptTokens(11);
    m.recordGenerationTokens(7);
    m.recordFirstToken(0.2);
    m.recordInterToken(0.01);
    m.recordRequest('chat_completions', 200, 1.5);
    m.recordFinished('stop');
    m.recordFinished('length');
    m.recordFinished('length');
    const text = await m.render();
    expect([sample(text, `vllm:num_requests_running${label}`), sample(text, 'tpserve_num_requests_running')]).toEqual([1, 1]);
    expect([sample(text, `vllm:num_requests_waiting${label}`), sample(text, 'tpserve_num_requests_waiting')]).toEqual([2, 2]);
    expect([sample(text, `vllm:kv_cache_usage_perc${label}`), sample(text, 'tpserve_kv_cache_usage_ratio')]).toEqual([0.5, 0.5]);
    expect([sample(text, `vllm:prompt_tokens_total${label}`), sample(text, 'tpserve_prompt_tokens_total')]).toEqual([11, 11]);
    expect([sample(text, `vllm:generation_tokens_total${label}`), sample(text, 'tpserve_generation_tokens_total')]).toEqual([7, 7]);
    expect([sample(text, `vllm:num_preemptions_total${label}`), sample(text, 'tpserve_num_preemptions_total')]).toEqual([3, 3]);
    expect(sample(text, `vllm:prefix_cache_queries_total${label}`)).toBe(130);
    expect(sample(text, `vllm:prefix_cache_hits_total${label}`)).toBe(50);
    expect(sample(text, `vllm:time_to_first_token_seconds_count${label}`)).toBe(1);
    expect(sample(text, `vllm:time_to_first_token_seconds_sum${label}`)).toBeCloseTo(0.2);
    expect(sample(text, `vllm:inter_token_latency_seconds_count${label}`)).toBe(1);
    expect(sample(text, `vllm:e2e_request_latency_seconds_sum${label}`)).toBeCloseTo(1.5);
    expect(sample(text, 'vllm:request_success_total{model_name="org/model",finished_reason="length"}')).toBe(2);
    expect(sample(text, 'vllm:request_success_total{model_name="org/model",finished_reason="stop"}')).toBe(1);
  });
});
