/** A tiny lv3-style training set for the rollout tests: two instructions with gold chains and two decoys. */
import { type Instruction, parseTrainingRecords, TestTextGuard } from "../instructions.ts";

const TS = `{"apiCode": "ToolSearcher", "description": "Searches tools.", "parameters": {"keywords": {"type": "str", "description": "k"}}, "response": {"best_matchs": {"type": "dict", "description": "m"}}}`;
const WEATHER =
  "{'name': 'Weather', 'description': 'Current weather of a city.', 'input_parameters': {'city': {'type': 'str', 'description': 'c'}, 'unit': {'type': 'str', 'description': 'optional unit'}}, 'output_parameters': {'t': {'type': 'int', 'description': 't'}}}";
const STOCK =
  "{'name': 'StockPrice', 'description': 'Latest price of a stock symbol.', 'input_parameters': {'symbol': {'type': 'str', 'description': 's'}}, 'output_parameters': {'p': {'type': 'float', 'description': 'p'}}}";
const reply = (input: string, output: string) => ({
  instruction: "Generate a response. The current time is {{time}}.\nAPI descriptions:\n",
  input,
  output,
});
const decoy = (name: string, description: string, request: string) =>
  reply(
    `${TS}\nUser: ${request}\nAPI-Request: [ToolSearcher(keywords='${name}')]->{'name': '${name}', 'description': '${description}', 'input_parameters': {}, 'output_parameters': {}}\nGenerate AI Response: `,
    "AI: Done.\n",
  );
/**
 * Weather (gold ToolSearcher → Weather), a stock price (its own ToolSearcher), and two decoys so the search
 * library has enough documents for BM25's idf to be positive.
 */
export const fixtureRecords = [
  {
    instruction: "Generate an API request. The current time is {{time}}.\nAPI descriptions:\n",
    input: `${TS}\nUser: Weather in Paris?\nGenerate API Request: `,
    output: "API-Request: [ToolSearcher(keywords='weather')]",
  },
  reply(
    `${TS}\nUser: Weather in Paris?\nAPI-Request: [ToolSearcher(keywords='weather')]->${WEATHER}\nAPI-Request: [Weather(city='Paris')]->{'t': 20}\nGenerate AI Response: `,
    "AI: It is 20 degrees in Paris.\n",
  ),
  reply(
    `${TS}\nUser: Price of ACME?\nAPI-Request: [ToolSearcher(keywords='stock price')]->${STOCK}\nAPI-Request: [StockPrice(symbol='ACME')]->{'p': 3.5}\nGenerate AI Response: `,
    "AI: ACME trades at 3.5.\n",
  ),
  decoy("SetAlarm", "Sets an alarm clock.", "Wake me at 7."),
  decoy("Translate", "Translates text between languages.", "Say hello in French."),
];

export function fixture(): Instruction[] {
  return [...parseTrainingRecords(fixtureRecords, TestTextGuard.fromTexts([])).instructions];
}
