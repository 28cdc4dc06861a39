import { describe, expect, it } from "vitest";
import { UserError } from "../../core/errors.ts";
import { embeddedTrainer, parseEmbeddedOptions } from "./embedded.ts";
import { createTrainer } from "./index.ts";

describe("--trainer embedded:OPTIONS", () => {
  it("reads lr, epochs, l2 and average, and the trainer's spec says them back for the manifest", () => {
    expect(parseEmbeddedOptions("lr=0.3, epochs=8,l2=0,average=off")).toEqual({
      learningRate: 0.3,
      epochs: 8,
      l2: 0,
      average: false,
    });
    expect(createTrainer("embedded").spec).toBe("embedded");
    const t = createTrainer("embedded:average=off,lr=0.03");
    expect(t.spec).toBe("embedded:lr=0.03,average=off");
    // The spec round-trips: a resumed run rebuilds the same trainer from the manifest's string.
    expect(createTrainer(t.spec).spec).toBe(t.spec);
    expect(embeddedTrainer({ epochs: 2 }).spec).toBe("embedded:epochs=2");
  });

  it.each([
    ["lr=0", "lr"],
    ["lr=fast", "lr"],
    ["epochs=1.5", "epochs"],
    ["average=yes", "average"],
    ["momentum=0.9", "momentum"],
    ["lr", "key=value"],
    ["", "key=value"],
    ["lr=0.1=2", "key=value"],
  ])("refuses %j with one line naming it", (options, named) => {
    let error: unknown;
    try {
      createTrainer(`embedded:${options}`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).category).toBe("bad_trainer");
    expect((error as Error).message).toContain(named);
    expect((error as Error).message).not.toContain("\n");
  });
});
