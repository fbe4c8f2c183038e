"""Reward functions in the shapes online RL trainers call, backed by Flywheel's reward model (POST /v1/rewards).

Flywheel's reward models score feature vectors, not pixels: the trainer's process turns each generated image or
video into the project's features with a user-supplied ``featurizer(images_or_videos, prompts, metadata)`` that
returns one entry per sample: a feature vector (list, ``array``, numpy row), or a string, taken as the ``videoId``
of a generation Flywheel already stores.
"""

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .client import FlywheelClient

__all__ = ["flow_grpo_reward_fn", "verl_compute_score"]

Featurizer = Callable[[Any, Sequence[str], Any], Sequence[Any]]


def _metadata_list(metadata: Any, n: int) -> List[Mapping[str, Any]]:
    if isinstance(metadata, (list, tuple)) and len(metadata) == n:
        return [m if isinstance(m, Mapping) else {} for m in metadata]
    return [metadata if isinstance(metadata, Mapping) else {}] * n


def _score_batch(client: FlywheelClient, featurizer: Featurizer, samples: Any, prompts: Sequence[str], metadata: Any,
                 groups: Sequence[Any], model_id: Optional[str], advantages: bool) -> Dict[str, Any]:
    entries = list(featurizer(samples, prompts, metadata))
    if len(entries) != len(prompts):
        raise ValueError(f"the featurizer returned {len(entries)} entries for {len(prompts)} prompts")
    features = [None if isinstance(e, str) else e for e in entries]
    video_ids = [e if isinstance(e, str) else None for e in entries]
    return client.rewards(list(prompts), list(groups), features, video_ids, model_id=model_id, advantages=advantages)


def _mix(rewards: Mapping[str, List[float]], weights: Optional[Mapping[str, float]], dimension: str) -> List[float]:
    if not weights:
        return list(rewards[dimension])
    n = len(rewards["overall"])
    return [sum(w * rewards[name][i] for name, w in weights.items()) for i in range(n)]


def flow_grpo_reward_fn(
    client: FlywheelClient,
    featurizer: Featurizer,
    *,
    model_id: Optional[str] = None,
    dimension: str = "overall",
    weights: Optional[Mapping[str, float]] = None,
) -> Callable[[Any, Sequence[str], Any], Tuple[List[float], Dict[str, Any]]]:
    """A reward function shaped like Flow-GRPO's: ``fn(images, prompts, metadata) -> (scores, meta)``.

    Matches the inner ``_fn(images, prompts, metadata)`` of the scorers in yifan123/flow_grpo
    ``flow_grpo/rewards.py`` (e.g. ``pickscore_score``), which return ``(scores, {})`` and which ``multi_score``
    weighs and sums per sample; register it there under a name of your own.

    ``scores`` is the ``dimension`` reward of each sample (``overall`` by default), or, with ``weights``
    (``{"visual_quality": 0.5, "motion_quality": 0.5}``), their weighted sum, as DanceGRPO mixes dimensions.
    ``meta`` carries everything else: ``rewards`` (every column), ``advantages`` (normalised within each prompt's
    rollouts, or within ``metadata[i]["group"]`` when given; population std, 0 for a group of one or of equal
    rewards), ``modelId`` and ``modelVersion``.
    """

    def _fn(images: Any, prompts: Sequence[str], metadata: Any) -> Tuple[List[float], Dict[str, Any]]:
        prompts = list(prompts)
        metas = _metadata_list(metadata, len(prompts))
        groups = [m.get("group", p) for m, p in zip(metas, prompts)]
        result = _score_batch(client, featurizer, images, prompts, metadata, groups, model_id, True)
        meta = {k: result[k] for k in ("modelId", "modelVersion", "dimensions", "rewards", "advantages")}
        return _mix(result["rewards"], weights, dimension), meta

    return _fn


def verl_compute_score(
    client: FlywheelClient,
    featurizer: Featurizer,
    *,
    model_id: Optional[str] = None,
) -> Callable[..., Dict[str, Any]]:
    """A ``compute_score`` hook for verl-omni's reward loop (``custom_reward_function.path``/``.name``).

    Matches the signature of verl-project/verl-omni ``examples/flowgrpo_trainer/reward_fn.py``
    ``compute_score_ocr(data_source, solution_image, ground_truth, extra_info, reward_router_address, ...)``:
    one sample per call, extra keyword arguments accepted and ignored. Returns ``{"score": overall, <dimension>:
    reward, ...}``; verl keeps ``score`` as the reward and the other keys as extra reward info. The prompt is
    ``extra_info["prompt"]`` (or ``"raw_prompt"``), else ``ground_truth`` when it is a string. verl computes the
    advantages itself, so none are asked for.

    In the reward file verl loads: ``compute_score = verl_compute_score(FlywheelClient(url, key), my_featurizer)``.
    """

    def compute_score(data_source: Any, solution_image: Any, ground_truth: Any = None, extra_info: Optional[Mapping[str, Any]] = None,
                      **_: Any) -> Dict[str, Any]:
        info = extra_info if isinstance(extra_info, Mapping) else {}
        prompt = info.get("prompt") or info.get("raw_prompt") or (ground_truth if isinstance(ground_truth, str) else "")
        if not isinstance(prompt, str):
            prompt = str(prompt)
        result = _score_batch(client, featurizer, [solution_image], [prompt], [dict(info)], [0], model_id, False)
        scores = {name: column[0] for name, column in result["rewards"].items()}
        return {"score": scores.pop("overall"), **scores}

    return compute_score
