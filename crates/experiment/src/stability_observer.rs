//! [`StabilityObserver`]: the game's [`Observer`] adapter for floral-stability's
//! [`StabilityMonitor`] (docs/method.md §8).
//!
//! It lives here because of the layering: floral-stability depends on data, projection and svm
//! only, and floral-game may not depend on it, so neither crate can hold an `Observer` that
//! feeds a `StabilityMonitor`; this crate knows both.

use std::sync::Arc;

use floral_data::Labels;
use floral_game::{Control, GameError, Observer, RoundRecord};
use floral_projection::Projector;
use floral_stability::{MonitorParams, StabilityError, StabilityMonitor, Trajectory};
use floral_svm::{BoxBounds, PgdMap};

/// Feeds every round of a game to a [`StabilityMonitor`]: λ^t after the step, and the map of
/// the round T_t(λ) = Π_{S(ỹ^t)}(λ − η_t(Q̃^tλ − 1)) built from the record's labels and step
/// η_t (`RoundRecord::step.eta`) with the learner's bounds and projector given here. Rounds
/// whose labels differ from the previous round's are marked as such (the sample's verdict is
/// then `Degenerate { AttackerNotLocallyConstant }`). A round with η_t ≤ 0 (a learner without a
/// step) is tracked for divergence and cycling but not analysed.
#[derive(Debug)]
pub struct StabilityObserver {
    monitor: StabilityMonitor,
    bounds: BoxBounds,
    projector: Arc<dyn Projector>,
    previous: Option<Labels>,
    stop_on_divergence: bool,
    analyse_from: usize,
}

impl StabilityObserver {
    /// An observer with monitor `params`, for a learner with box bounds `bounds` and projector
    /// `projector`. It never stops the game unless [`StabilityObserver::stop_on_divergence`].
    ///
    /// # Errors
    /// [`StabilityError::InvalidParam`] for monitor parameters out of range.
    pub fn new(
        params: MonitorParams,
        bounds: BoxBounds,
        projector: Arc<dyn Projector>,
    ) -> Result<Self, StabilityError> {
        Ok(Self {
            monitor: StabilityMonitor::new(params)?,
            bounds,
            projector,
            previous: None,
            stop_on_divergence: false,
            analyse_from: 0,
        })
    }

    /// Ask the game to stop at the first round where divergence is detected.
    pub fn stop_on_divergence(mut self, stop: bool) -> Self {
        self.stop_on_divergence = stop;
        self
    }

    /// Take spectral samples only from round `round` on (earlier rounds are still tracked for
    /// divergence and cycling): a study that asks about the last rounds skips the costly
    /// early samples, where the free set is large.
    pub fn analyse_from(mut self, round: usize) -> Self {
        self.analyse_from = round;
        self
    }

    /// The monitor (samples and summary).
    pub fn monitor(&self) -> &StabilityMonitor {
        &self.monitor
    }
}

fn player_error(e: impl std::error::Error + Send + Sync + 'static) -> GameError {
    GameError::Player { name: "stability monitor", source: Box::new(e) }
}

impl Observer for StabilityObserver {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        let eta = rec.step.eta;
        let map = if eta.is_finite() && eta > 0.0 && rec.round >= self.analyse_from {
            Some(PgdMap::new(rec.q, eta, self.bounds.as_bounds(), self.projector.as_ref()).map_err(player_error)?)
        } else {
            None
        };
        let changed = self.previous.as_ref().is_some_and(|p| p != rec.labels);
        let state = self.monitor.observe(rec.round, map.as_ref(), rec.lambda, changed).map_err(player_error)?;
        self.previous = Some(rec.labels.clone());
        if self.stop_on_divergence && matches!(state, Trajectory::Diverging { .. }) {
            return Ok(Control::Stop);
        }
        Ok(Control::Continue)
    }
}
