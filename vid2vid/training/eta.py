"""Remaining time of a training run that knows its schedule.

The cost of a vid2vid iteration grows with the frames generated per sample, which double every
``niter_step`` epochs (vid2vid §4): a rate measured on the short early sequences underestimates
the rest of the run several times over. :class:`ScheduleETA` measures the time per unit of
*work* (frames generated per iteration, from the schedule) and multiplies by the work left.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ScheduleETA", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """``3725`` → ``"1h02m"``, ``125`` → ``"2m05s"``, ``9`` → ``"9s"``."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class ScheduleETA:
    """Estimate the seconds left from the work per iteration of each epoch.

    Args:
        work_per_iteration: ``epoch -> work`` of one iteration in that 0-based epoch (e.g. the
            frames generated per sample); any positive unit.
        iters_per_epoch: iterations per epoch.
        total_iterations: the run's last global step (schedule end or ``max_iters``).
        start_step: the global step the timing starts from (a resumed run's step).
    """

    def __init__(
        self,
        work_per_iteration: Callable[[int], float],
        iters_per_epoch: int,
        total_iterations: int,
        start_step: int = 0,
    ) -> None:
        if iters_per_epoch < 1:
            raise ValueError(f"iters_per_epoch must be >= 1, got {iters_per_epoch}")
        self._work = work_per_iteration
        self.iters_per_epoch = iters_per_epoch
        self.total_iterations = total_iterations
        self.start_step = start_step
        self._cache: dict[int, float] = {}

    def _epoch_work(self, epoch: int) -> float:
        if epoch not in self._cache:
            self._cache[epoch] = float(self._work(epoch))
        return self._cache[epoch]

    def work_between(self, first_step: int, last_step: int) -> float:
        """Work of the iterations ``first_step + 1 .. last_step`` (global steps, 1-based)."""
        total, step = 0.0, first_step
        while step < last_step:
            epoch = step // self.iters_per_epoch
            epoch_end = min((epoch + 1) * self.iters_per_epoch, last_step)
            total += (epoch_end - step) * self._epoch_work(epoch)
            step = epoch_end
        return total

    def remaining(self, step: int, elapsed: float) -> float | None:
        """Seconds left after global ``step``, ``elapsed`` seconds after ``start_step`` (``None``: no data yet)."""
        done = self.work_between(self.start_step, step)
        if done <= 0 or elapsed <= 0:
            return None
        return elapsed / done * self.work_between(step, self.total_iterations)
