//! Sweeps: many trainings of one described architecture over a grid of settings, as independent
//! tasks (configuration × fold) that run locally, on a Slurm cluster or under any other runner.

pub mod slurm;
