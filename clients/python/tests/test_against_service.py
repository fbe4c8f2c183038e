"""The client against a running Flywheel api (and trainer), as test/python-client.test.ts starts them.

The fixture file named by FLYWHEEL_TEST_FIXTURE holds the api's URL, the project's keys, a rollout batch and the
rewards onnxruntime computed for it in the test harness (the oracle); every figure here is checked against it.
Run with Debian's python3 (standard library only): ``python3 -m unittest discover -s tests -t .``.
"""

import io
import json
import math
import os
import tempfile
import unittest
from array import array

from flywheel_client import (
    FlywheelAuthError,
    FlywheelClient,
    FlywheelValidationError,
    encode_features,
    flow_grpo_reward_fn,
    verl_compute_score,
)

with open(os.environ["FLYWHEEL_TEST_FIXTURE"], encoding="utf-8") as fixture_file:
    FIXTURE = json.load(fixture_file)
BATCH = FIXTURE["batch"]
DIMENSIONS = FIXTURE["dimensions"]


def client(key: str = FIXTURE["secretKey"]) -> FlywheelClient:
    return FlywheelClient(FIXTURE["url"], key, timeout=60)


def normalised(values, groups):
    """(r - mean) / population std within each group; 0 when the group's rewards are all equal."""
    members = {}
    for v, g in zip(values, groups):
        members.setdefault(str(g), []).append(v)
    stats = {}
    for g, vs in members.items():
        mean = sum(vs) / len(vs)
        stats[g] = (mean, math.sqrt(sum((v - mean) ** 2 for v in vs) / len(vs)))
    return [0.0 if stats[str(g)][1] == 0 else (v - stats[str(g)][0]) / stats[str(g)][1] for v, g in zip(values, groups)]


class NumpyLike:
    """What the client needs of a numpy row (astype + tobytes), so the numpy path is tested without numpy."""

    def __init__(self, values):
        self.values = list(values)

    def astype(self, dtype):
        assert dtype == "<f4"
        return self

    def tobytes(self):
        return array("f", self.values).tobytes()

    def tolist(self):
        return list(self.values)


class RewardsTest(unittest.TestCase):
    def test_rewards_of_a_rollout_batch_match_the_model_in_both_encodings(self):
        for encoding in ("base64", "json"):
            with self.subTest(encoding=encoding):
                result = client().rewards(BATCH["prompts"], BATCH["groups"], BATCH["features"], advantages=True, encoding=encoding)
                self.assertEqual(result["modelId"], FIXTURE["modelId"])
                self.assertEqual(result["dimensions"], DIMENSIONS)
                self.assertEqual(result["count"], len(BATCH["prompts"]))
                self.assertEqual(result["groups"], len(set(BATCH["groups"])))
                self.assertEqual(result["rewards"], BATCH["expected"])
                for name in ["overall"] + DIMENSIONS:
                    wanted = normalised(BATCH["expected"][name], BATCH["groups"])
                    for got, want in zip(result["advantages"][name], wanted):
                        self.assertAlmostEqual(got, want, places=9)

    def test_accepts_arrays_and_numpy_like_rows_and_stored_videos(self):
        rows = BATCH["features"][:3]
        shapes = [array("d", rows[0]), NumpyLike(rows[1]), tuple(rows[2])]
        result = client().rewards(BATCH["prompts"][:3], BATCH["groups"][:3], shapes)
        self.assertEqual(result["rewards"]["overall"], BATCH["expected"]["overall"][:3])
        self.assertNotIn("advantages", result)
        self.assertEqual(encode_features(NumpyLike(rows[1])), encode_features(rows[1]))
        videos = FIXTURE["videos"]
        stored = client().rewards(["p"] * len(videos["ids"]), [0] * len(videos["ids"]), video_ids=videos["ids"])
        self.assertEqual(stored["rewards"]["overall"], videos["expected"])

    def test_score_answers_rewards_and_ranking(self):
        videos = FIXTURE["videos"]
        result = client().score(video_ids=videos["ids"])
        self.assertEqual([r["reward"] for r in result["rewards"]], videos["expected"])
        self.assertEqual(sorted(result["ranking"], key=lambda i: -videos["expected"][i]), result["ranking"])

    def test_a_refused_batch_raises_a_typed_error_naming_the_fields(self):
        features = [list(f) for f in BATCH["features"][:20]]
        features[17] = features[17][:-1]
        for encoding, field in (("json", "candidates[17].features"), ("base64", "candidates[17].featuresBase64")):
            with self.subTest(encoding=encoding):
                with self.assertRaises(FlywheelValidationError) as caught:
                    client().rewards(BATCH["prompts"][:20], BATCH["groups"][:20], features, encoding=encoding)
                error = caught.exception
                self.assertEqual((error.status, error.code), (400, "VALIDATION_FAILED"))
                self.assertEqual(error.fields, [field])
                self.assertIn("must have", error.problems[field][0])
        features[3] = [float("nan")] * FIXTURE["featureDim"]
        with self.assertRaises(FlywheelValidationError) as caught:
            client().rewards(BATCH["prompts"][:20], BATCH["groups"][:20], features)
        self.assertEqual(caught.exception.fields, ["candidates[3].featuresBase64[0]"])
        # NaN has no JSON form: the json encoding refuses it before sending; so do mismatched lengths.
        with self.assertRaises(ValueError):
            client().rewards(BATCH["prompts"][:20], BATCH["groups"][:20], features, encoding="json")
        with self.assertRaises(ValueError):
            client().rewards(["a", "b"], [0], [[1.0], [2.0]])

    def test_keys_of_the_wrong_kind_raise_auth_errors(self):
        for key, status in ((FIXTURE["ingestKey"], 403), ("fw_secret_unknown", 401)):
            with self.subTest(status=status):
                with self.assertRaises(FlywheelAuthError) as caught:
                    client(key).rewards(BATCH["prompts"][:1], [0], BATCH["features"][:1])
                self.assertEqual(caught.exception.status, status)
                self.assertTrue(caught.exception.code)


def featurizer(samples, prompts, metadata):
    """The test's 'images' are indices into the fixture's feature rows (or video ids, passed through)."""
    return [s if isinstance(s, str) else BATCH["features"][s] for s in samples]


class AdaptersTest(unittest.TestCase):
    def test_flow_grpo_reward_fn_returns_scores_and_meta(self):
        fn = flow_grpo_reward_fn(client(), featurizer)
        n = len(BATCH["prompts"])
        scores, meta = fn(list(range(n)), BATCH["prompts"], [{} for _ in range(n)])
        self.assertEqual(scores, BATCH["expected"]["overall"])
        self.assertEqual(meta["rewards"], BATCH["expected"])
        # Groups default to the prompt: the fixture's prompts and groups partition the batch the same way.
        wanted = normalised(BATCH["expected"]["overall"], BATCH["prompts"])
        for got, want in zip(meta["advantages"]["overall"], wanted):
            self.assertAlmostEqual(got, want, places=9)
        weights = {DIMENSIONS[0]: 0.25, DIMENSIONS[1]: 0.75}
        mixed, _ = flow_grpo_reward_fn(client(), featurizer, weights=weights)(list(range(4)), BATCH["prompts"][:4], {})
        for i, value in enumerate(mixed):
            self.assertAlmostEqual(value, sum(w * BATCH["expected"][d][i] for d, w in weights.items()), places=12)

    def test_verl_compute_score_scores_one_sample(self):
        compute_score = verl_compute_score(client(), featurizer)
        result = compute_score(data_source="flywheel", solution_image=5, ground_truth="unused",
                               extra_info={"prompt": BATCH["prompts"][5]}, reward_router_address="ignored")
        self.assertEqual(result, {"score": BATCH["expected"]["overall"][5], **{d: BATCH["expected"][d][5] for d in DIMENSIONS}})
        by_video = compute_score("flywheel", FIXTURE["videos"]["ids"][0], "a prompt", {})
        self.assertEqual(by_video["score"], FIXTURE["videos"]["expected"][0])


class PreferenceSetsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        queued = client().create_preference_set(scopes=["request", "prompt"], minMargin=0.05, includeTies=True, seed=7)
        cls.set = client().wait_for_preference_set(queued["id"], timeout=90, poll=0.3)

    def test_the_set_builds(self):
        self.assertEqual(self.set["status"], "ready", self.set.get("error"))

    def test_exports_stream_to_a_file_and_are_the_same_bytes_every_time(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "pairs.jsonl")
            result = client().export_preference_set(self.set["id"], path, format="dpo-jsonl")
            self.assertEqual(result.path, path)
            with open(path, "rb") as written:
                data = written.read()
            self.assertEqual(result.bytes, len(data))
            self.assertGreater(len(data), 0)
            self.assertTrue(result.content_type)
            lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
            self.assertTrue(all({"prompt", "chosen", "rejected"} <= set(line) for line in lines))
            again = io.BytesIO()
            client().export_preference_set(self.set["id"], again, format="dpo-jsonl")
            self.assertEqual(again.getvalue(), data)

    def test_export_parameters_pass_through_to_the_service(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "never.jsonl")
            with self.assertRaises(FlywheelValidationError) as caught:
                client().export_preference_set(self.set["id"], path, format="dpo-jsonl", not_a_parameter="x")
            self.assertIn("not_a_parameter", " ".join(caught.exception.fields))
            self.assertFalse(os.path.exists(path))
            with self.assertRaises(FlywheelValidationError) as bad_format:
                client().export_preference_set(self.set["id"], path, format="pickle")
            self.assertEqual(bad_format.exception.code, "VALIDATION_FAILED")

    def test_publication_is_queued_and_completes(self):
        publication = client().publish_preference_set(self.set["id"])
        done = client().wait_for_publication(self.set["id"], publication["publicationId"], timeout=90, poll=0.3)
        self.assertEqual(done["status"], "done", done.get("error"))
        self.assertGreater(done["messages"], 0)


if __name__ == "__main__":
    unittest.main()
