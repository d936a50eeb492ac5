// The text the tiny tokenizer's merges are learned from: original English prose, chat and tool-call
// vocabulary (system, user, assistant, function, parameter), JSON punctuation, digits and a little
// non-English text. Written for this project; changing it changes the generated vocabulary.

const PROSE = `
The morning was quiet when the train left the station. A few people read the news, others looked out of the window
at the fields, the river and the small towns that passed by. The conductor walked through the cars and checked every
ticket with a smile. Nobody was in a hurry, and the journey to the city would take about three hours.
In the kitchen, the water in the pot began to boil. She added salt, then the pasta, and stirred it with a wooden spoon.
The sauce was simple: olive oil, garlic, tomatoes, a little basil and some pepper. When the pasta was ready she drained
it, mixed it with the sauce and served it on warm plates. Everyone agreed that it was the best dinner of the week.
Science begins with a question. Why is the sky blue? Why do leaves change color in autumn? How far away is the moon?
A good experiment tests one idea at a time, measures carefully, and reports the results honestly, even when they are
surprising. Over many years, small answers add up to a large understanding of the world around us.
The computer reads the program line by line. Each function takes some input, does its work and returns a value.
When a test fails, the engineer reads the error message, finds the line that caused it and writes a fix. Good code is
easy to read, easy to change and easy to test. Comments explain why something is done, not only what it does.
The weather today will be sunny in the morning and cloudy in the afternoon, with a chance of light rain in the evening.
Temperatures will reach a high of twenty degrees and a low of eleven. Tomorrow should be warmer, with a gentle wind
from the south. People who plan to travel should check the forecast again before they leave.
Learning a language takes patience. You listen, you repeat, you make mistakes and you try again. After a while the
words begin to feel natural, and you start to think in the new language instead of translating every sentence. Reading
books, watching films and talking with friends all help you improve faster than you might expect.
The library was open until nine o'clock. Students sat at long tables with their notes, and the only sound was the
turning of pages. On the second floor there was a large map of the old city, with its streets, bridges and gardens.
Music has always brought people together. A song can make you happy, calm or thoughtful; it can remind you of a place
you visited or a person you loved. Some musicians play every day for many hours, because practice is the only way to
master an instrument. Others write new songs, searching for a melody that nobody has heard before.
The market opened early on Saturday. Farmers brought fresh bread, cheese, apples, oranges, carrots and potatoes. The
prices were fair, the people were friendly, and there was always time for a short conversation about the weather.
Mountains rise above the valley, their peaks covered with snow for most of the year. Hikers follow narrow paths through
forests of pine and birch, crossing streams on wooden bridges. At night they camp beside a lake, cook soup over a small
stove and watch the stars appear one by one. Wolves, foxes, deer and eagles live here, far from highways and noise.
History teaches us how societies grew, traded, argued and changed. Ancient empires built roads, aqueducts and harbors;
merchants carried silk, spices, silver and ideas across deserts and oceans. Writing, printing, electricity and the
internet each transformed how knowledge spreads, and every generation inherits both achievements and responsibilities.
Doctors recommend regular exercise, enough sleep, vegetables, fruit, and plenty of water. Walking thirty minutes daily
strengthens muscles, protects the heart and improves mood. Hospitals employ nurses, surgeons, pharmacists, therapists
and volunteers who work together, sometimes through exhausting shifts, so that patients recover safely.
Economics studies scarcity: households, companies and governments choose how to spend limited resources. Inflation,
interest rates, unemployment, productivity, taxes, budgets, exports and imports appear in newspapers every morning.
Engineers design bridges, engines, satellites, batteries, processors and networks. Mathematics provides equations,
probability, geometry, algebra, calculus and statistics; physics describes gravity, energy, momentum, light and heat;
chemistry explains molecules, reactions, acids, metals and crystals; biology investigates cells, genes and evolution.
Children played football in the park while grandparents fed pigeons near the fountain. A musician tuned his violin,
a painter sketched the cathedral, and a journalist interviewed shoppers about the upcoming election. Umbrellas opened
quickly when thunder rumbled; everybody hurried toward cafes, bakeries, bookshops and museums to escape the storm.
Servers handle requests, queues, batches, caches, tokens, sequences, schedulers, workers, replicas and gradients.
Latency, throughput, memory, bandwidth, kernels, tensors, matrices, vectors, layers, heads, embeddings and logits
describe how language models generate text: they predict the next token, sample it, append it and repeat.
`;

const CHAT = `
system
You are a helpful assistant. Answer the user's questions clearly and accurately.
user
Can you help me write a short email to my team about the meeting on Monday?
assistant
Of course! Here is a short email you could send to your team about the meeting.
user
What is the capital of France, and how many people live there?
assistant
The capital of France is Paris. About two million people live in the city itself.
Got it, let's see. The user wants a summary, so I should keep the answer short and clear.
Let me think about this step by step. First, I need to understand the question. Then I will check the facts.
Wait, that is not quite right. Let me reconsider the second part of the problem before I answer.
I have exhausted my token budget, and now I will start answering the question.
I have used some tokens, and I have tokens left to use.
The user asked about the weather, so I will call the get_weather function with the location parameter.
You may call one or more functions to assist with the user query. Tool calls must use the required format.
function
parameter
tool
tool_call
tools
name
description
type
properties
required
arguments
content
role
message
messages
reasoning
thinking
budget
response
result
error
string
number
integer
boolean
object
array
null
true
false
`;

const STRUCTURED = `
{"name": "get_weather", "description": "Get the current weather in a given location", "parameters": {"type": "object",
"properties": {"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}, "unit":
{"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}}
{"role": "user", "content": "What's the weather like in Boston today?"}
{"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather",
"arguments": {"location": "Boston, MA", "unit": "celsius"}}}]}
{"role": "tool", "content": {"temperature": 21, "condition": "sunny"}}
<function=get_weather>
<parameter=location>Barcelona, Spain</parameter>
<parameter=unit>celsius</parameter>
</function>
<function=search>
<parameter=query>best pasta recipe</parameter>
</function>
[1, 2, 3, 4, 5, 6, 7, 8, 9, 10] {"a": 0, "b": [true, false, null], "c": {"d": -1.5e3}}
0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 42 100 256 1000 2024 2025 3.14159 0.5 -7 99%
def main():
    for i in range(10):
        print(i, "hello")
    return 0
function add(a, b) { return a + b; }
const result = await fetch("https://example.com/api/v1/items?id=42");
if (x >= 0 && y <= 10) { console.log("ok"); } else { throw new Error("out of range"); }
`;

const OTHER_LANGUAGES = `
Café, résumé, naïve, déjà vu, crème brûlée, São Paulo, Zürich, piñata, façade, éclair.
Bonjour, comment allez-vous? Très bien, merci. Guten Tag! Wie geht es Ihnen? ¿Dónde está la estación?
你好，世界。中文文本也可以被分词。我们今天学习中文。
こんにちは、世界。 Привет, мир! 안녕하세요. مرحبا بالعالم. 🙂 👍 🚀 ✨
`;

/** The whole training text, NFC-normalized as the tokenizer's normalizer would. */
export const TRAINING_CORPUS: string = [PROSE, CHAT, STRUCTURED, OTHER_LANGUAGES].join('\n').normalize('NFC');
