// Jest's test order: its default (failed and slow suites first) unless
// ISTIO_MESH_SUITE_ORDER lists the suites' paths (":"-separated), as scripts/test.sh
// does for each lane, so that a lane runs its suites in the order it was given
// (and a reverse-order run really runs them in reverse).
import testSequencer from "@jest/test-sequencer";

// A CommonJS module: its class is the `default` export of the module object.
const Sequencer = testSequencer.default;

export default class ListedOrderSequencer extends Sequencer {
    sort(tests) {
        const order = (process.env.ISTIO_MESH_SUITE_ORDER ?? "").split(":").filter(Boolean);
        if (order.length === 0) return super.sort(tests);
        const rank = (t) => {
            const i = order.findIndex((p) => t.path.endsWith(`/${p}`));
            return i < 0 ? order.length : i;
        };
        return [...tests].sort((a, b) => rank(a) - rank(b));
    }
}
