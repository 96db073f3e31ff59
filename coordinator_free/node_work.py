"""What a node does with a job it accepted, in either mode: run the party's protocol
(the additive mode's exchange through the peer mesh, or the threshold mode's local
work alone), then sign the receipt and record the outcome.  The gRPC servicers
(``coordinator_free.node``) start it in a thread of its own and only read the job."""

from __future__ import annotations

import hashlib
import logging
import time

from cme import messages as M
from cme.misbehave import wrong_msm
from cme.party import run_party
from cme.threshold_run import run_party as run_threshold_party
from coordinator_free.jobs import DONE, FAILED, Job, JobError
from coordinator_free.mesh import GrpcTransport
from coordinator_free.receipts import msm_sizes, node_receipt
from gpu_msm.backend import bind_thread

log = logging.getLogger("coprove.node")


def job_log(job, step, detail, level=logging.INFO) -> None:
    """The daemon's one line per job step."""
    log.log(level, "job=%s party=%d step=%s %s", job.job_id.hex()[:12], job.index, step, detail)


class JobWork:
    """A job's run, from the local work to the signed receipt; any failure ends that job
    only (the daemon keeps serving)."""

    def __init__(self, cfg, metrics, channels, signer, faults):
        self._cfg, self._metrics, self._channels = cfg, metrics, channels
        self._signer, self._faults = signer, faults

    def run(self, job: Job, zkey, material):
        if job.threshold:
            return self._threshold(job, zkey, material)
        try:
            self._faults.at("start")
            bind_thread()
            transport = self._faults.wrap(GrpcTransport(job, self._channels, self._signer,
                                                       bad_signatures=self._cfg.misbehave == "bad-signature"))
            if self._cfg.misbehave and self._cfg.misbehave != "bad-signature":
                from cme.misbehave import Misbehaving
                transport = Misbehaving(transport, self._cfg.misbehave)

            def wipe():
                # the expanded shares are all this node keeps (a correction still arriving
                # is not in the material: it goes to the shares)
                if material.corrections is not None:
                    material.corrections.wipe()

            self._log(job, "local work", "starting")
            ops = run_party(zkey, material, transport, job.job_id, expanded=wipe)
            job.steps = dict(ops.timings)
            if job.output is None:
                raise JobError("the protocol ended without an output")
            self._done(job, zkey)
        except Exception as e:  # any failure ends this job only; the daemon keeps serving
            # cme's PeerError and MessageError name the party that let this one down
            peer = getattr(e, "peer", None)
            blamed = peer if isinstance(peer, int) and 0 <= peer < job.n_parties else None
            if job.finish(FAILED, str(e), blamed):
                self._metrics.jobs.labels("failed").inc()
            self._log(job, "failed", str(e), logging.WARNING)
        finally:
            self._metrics.running.dec()
            self._metrics.bytes_sent.inc(job.bytes_sent)
            self._metrics.bytes_received.inc(job.bytes_received)

    def _threshold(self, job: Job, zkey, material):
        """Threshold mode: the single-party routine on this node's Shamir share, alone; the
        output is its bare MSMs, held for the client.  Nothing goes to any peer."""
        try:
            self._faults.at("start")
            bind_thread()
            self._log(job, "local work", "starting (threshold mode: no peer traffic)")
            bare, timings = run_threshold_party(zkey, material)
            material.wipe()
            points = (bare.a, bare.b1, bare.b2, bare.c)
            if self._cfg.misbehave == "wrong-msm":
                points = wrong_msm(points)
            elif self._cfg.misbehave:
                self._log(job, "misbehave", f"{self._cfg.misbehave} corrupts peer messages; a threshold job "
                                            "has none", logging.WARNING)
            self._faults.at("output")
            job.steps = dict(timings)
            job.output = M.encode(M.Message(M.OUTPUT, job.job_id, job.index, points=points))
            self._done(job, zkey)
        except Exception as e:  # any failure ends this job only; the daemon keeps serving
            if job.finish(FAILED, str(e)):
                self._metrics.jobs.labels("failed").inc()
            self._log(job, "failed", str(e), logging.WARNING)
        finally:
            material.wipe()
            self._metrics.running.dec()

    def _done(self, job: Job, zkey) -> None:
        """A job whose output is ready, in either mode: signed receipt, state, metrics, log."""
        self._sign_receipt(job, zkey)
        if job.finish(DONE):
            self._metrics.jobs.labels("done").inc()
        for step, secs in sorted(job.steps.items()):
            self._metrics.step_seconds.labels(step).observe(secs)
            self._log(job, step, f"seconds={secs:.3f}")
        mode = f" (threshold mode, t={job.threshold})" if job.threshold else ""
        self._log(job, "done", f"sent={job.bytes_sent}B received={job.bytes_received}B{mode}")

    def _sign_receipt(self, job: Job, zkey) -> None:
        """This node's signed account of the job (``coordinator_free.receipts``)."""
        job.receipt = node_receipt(self._signer, {
            "job": job.job_id.hex(), "circuit": job.circuit,
            "mode": f"threshold t={job.threshold}" if job.threshold else "additive",
            "node": self._cfg.identity.fingerprint, "index": job.index, "n_parties": job.n_parties,
            "n_vars": zkey.n_vars, "domain_size": zkey.domain_size, "msm_sizes": msm_sizes(zkey),
            "material_bytes": job.material_bytes, "bytes_in": job.bytes_received, "bytes_out": job.bytes_sent,
            "started_unix_ms": int(job.started_unix * 1000), "ended_unix_ms": int(time.time() * 1000),
            "step_seconds": {k: round(v, 6) for k, v in sorted(job.steps.items())},
            "output_sha256": hashlib.sha256(job.output).hexdigest()})

    def _log(self, job, step, detail, level=logging.INFO):
        job_log(job, step, detail, level)
