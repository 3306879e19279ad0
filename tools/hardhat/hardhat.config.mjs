// A Hardhat 3 node for the second-node tests (tests/integration/test_hardhat*.py).
// `hardhat --config tools/hardhat/hardhat.config.mjs --network cancun node --port N`
// runs a Cancun chain; `--network shanghai` one without transient storage (deploy must refuse it).
// Hardhat writes build-info under paths.artifacts: keep that out of the project's artifacts/.
export default {
  paths: {
    artifacts: "../../.cache/hardhat/artifacts",
    cache: "../../.cache/hardhat/cache",
  },
  networks: {
    cancun: { type: "edr-simulated", chainType: "l1", hardfork: "cancun" },
    shanghai: { type: "edr-simulated", chainType: "l1", hardfork: "shanghai" },
  },
};
