from insight_search.fusion import convex, rrf, top


def test_rrf_matches_the_formula():
    fused = rrf([[(1, 0.9), (2, 0.8)], [(2, 5.0), (3, 4.0)]], weights=[1.0, 1.0], k=60)
    assert fused[2] == 1 / 62 + 1 / 61
    assert fused[1] == 1 / 61 and fused[3] == 1 / 62
    assert [i for i, _ in top(fused, 3)] == [2, 1, 3]


def test_rrf_weights_and_convex():
    fused = rrf([[(1, 0.9)], [(2, 5.0)]], weights=[2.0, 1.0], k=60)
    assert top(fused, 1)[0][0] == 1
    c = convex([[(1, 1.0), (2, 0.5), (3, 0.0)], [(3, 10.0), (1, 0.0)]], weights=[1.0, 1.0])
    assert c == {1: 1.0, 2: 0.5, 3: 1.0}
    assert top(c, 3) == [(1, 1.0), (3, 1.0), (2, 0.5)]  # ties broken by id
