#pragma once
// An emulator started in-process on a loopback port from a seed (plain HTTP, default model
// options): the set-up the reconcilers' integration tests share. Throws when it cannot start.
#include <memory>
#include <utility>

#include <nlohmann/json.hpp>

#include "emulator/emulator.hpp"

namespace sharekeeper::testing {

inline std::unique_ptr<emulator::Emulator> start_emulator(nlohmann::json seed) {
  emulator::EmulatorOptions eo;
  eo.seed = std::move(seed);
  auto emu = std::make_unique<emulator::Emulator>(eo);
  emu->start();
  return emu;
}

}  // namespace sharekeeper::testing
