//! The use cases end to end, on both backends: one test binary, a module
//! per area.

mod audit;
mod exports;
