/**
 * A gold chain as a trajectory: the expert-imitation control of §1.3, and the reference every critic must accept.
 */
import { parseCall } from "../envs/apibank/call.ts";
import type { GoldChain, Instruction } from "./instructions.ts";
import { apiTurn, type Trajectory, type TrajectoryTurn } from "./trajectory.ts";

export function goldTrajectory(instruction: Instruction, chain: GoldChain): Trajectory {
  const turns: TrajectoryTurn[] = [{ role: "user", text: instruction.request }];
  for (const call of chain.calls) {
    turns.push({ role: "agent", text: call.request });
    const parsed = parseCall(call.request);
    turns.push(apiTurn(parsed.ok ? parsed.call.name : call.name, call.output, null));
  }
  turns.push({ role: "agent", text: chain.reply });
  return { instructionId: instruction.id, turns };
}
