import { describe, expect, it } from "vitest";
import { parseCall } from "../envs/apibank/call.ts";
import { LlmError } from "../llm/errors.ts";
import { MockLanguageModel } from "../llm/testing/mock.ts";
import type { Instruction } from "./instructions.ts";
import { ReplaySimulator } from "./simulator.ts";
import { LlmSimulator, SIMULATOR_ERROR, simulationSchema } from "./simulator-llm.ts";
import { fixture } from "./testing/fixture.ts";

const call = (text: string) => {
  const p = parseCall(text);
  if (!p.ok) throw new Error(`test call does not parse: ${text}`);
  return p.call;
};

describe("LLM-simulated executor", () => {
  const all = fixture();
  const weather = all[0] as Instruction;
  const replay = new ReplaySimulator(all);

  it("answers recorded and malformed calls as the replay simulator does, without asking the model", async () => {
    const model = new MockLanguageModel({
      respond: () => '{"ok": true, "output": {"t": 5}, "exception": ""}',
    });
    const s = new LlmSimulator(replay, model).start(weather, 0);
    expect(await s.execute(call("[Weather(city='Paris')]"))).toEqual({ output: { t: 20 }, exception: null });
    expect((await s.execute(call("[Forecast(city='Paris')]"))).exception).toBe("no API named Forecast");
    expect((await s.execute(call("[Weather(town='Paris')]"))).exception).toBe(
      "invalid parameter name. parameter: town",
    );
    expect(model.calls).toHaveLength(0);
  });

  it("simulates a well-formed unrecorded call from the API's description, the request and earlier calls", async () => {
    const model = new MockLanguageModel({
      respond: () => '{"ok": true, "output": {"t": 14}, "exception": ""}',
    });
    const s = new LlmSimulator(replay, model).start(weather, 0);
    await s.execute(call("[Weather(city='Paris')]"));
    expect(await s.execute(call("[Weather(city='Rome')]"))).toEqual({
      output: { t: 14 },
      exception: null,
      simulated: true,
    });
    expect(model.calls).toHaveLength(1);
    const prompt = model.calls[0]?.request.messages.map((m) => m.content).join("\n") ?? "";
    expect(prompt).toContain('"name":"Weather"');
    expect(prompt).toContain("Weather in Paris?");
    expect(prompt).toContain("API-Request: [Weather(city='Paris')]->{'t': 20}");
    expect(prompt).toContain("The call: API-Request: [Weather(city='Rome')]");
    // The answer's shape comes from the API's output parameters: `t` is an int.
    const schema = simulationSchema({
      name: "Weather",
      description: "",
      input_parameters: {},
      output_parameters: { t: { type: "int", description: "" } },
    });
    expect(schema.safeParse({ ok: true, output: { t: 1.5 }, exception: "" }).success).toBe(false);
    expect(schema.safeParse({ ok: true, output: { t: 1 }, exception: "" }).success).toBe(true);
  });

  it("a refused call is an exception; an unusable answer is a named SimulatorError; transport errors are thrown", async () => {
    const refuse = new MockLanguageModel({
      respond: () => '{"ok": false, "output": {"t": 0}, "exception": "unknown city Atlantis"}',
    });
    expect(
      await new LlmSimulator(replay, refuse).start(weather, 0).execute(call("[Weather(city='Atlantis')]")),
    ).toEqual({ output: null, exception: "unknown city Atlantis", simulated: true });

    const garbage = new MockLanguageModel({ respond: () => "sunny, I think" });
    const bad = await new LlmSimulator(replay, garbage)
      .start(weather, 0)
      .execute(call("[Weather(city='Rome')]"));
    expect(bad.simulated).toBe(true);
    expect(bad.output).toBeNull();
    expect(bad.exception?.startsWith(`${SIMULATOR_ERROR}:`)).toBe(true);

    const down = new MockLanguageModel({ respond: () => new LlmError("connection", "down") });
    await expect(
      new LlmSimulator(replay, down).start(weather, 0).execute(call("[Weather(city='Rome')]")),
    ).rejects.toThrow("down");
  });
});
