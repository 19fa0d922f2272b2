# %% [markdown]
# # Debate: a judge who sees little, and two debaters who see everything
#
# Irving, Christiano & Amodei (2018) proposed debate as scalable oversight: if the truth is
# easier to defend than a lie, a judge who cannot check an answer alone can still judge a
# debate about it. Their test bed, on scikit-learn's 8x8 digits here
# (`aligngym/PixelDebate-v0`):
#
# - the **judge** is a classifier that sees only a few pixels of a digit (trained on random
#   nonzero pixels);
# - **alone** (`direct`) it sees `moves` random pixels: Irving et al.'s 59.4 % at 6 pixels;
# - in a **debate** an honest debater and a liar, who both see the whole image, take turns
#   revealing pixels (values cannot be faked); the judge sees only those and decides;
# - in **consultancy** one consultant, honest or lying at even odds, reveals them all;
# - with **full information** the judge sees the whole image: the ceiling.
#
# The debaters here are greedy: each reveals the pixel that most moves the judge its way.
#
# Run it top to bottom (`python examples/13_debate.py`); about 40 s the first time (it trains
# the judges, then reads them from aligngym's cache).

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.debate.base import play_game  # noqa: E402
from aligngym.agents.debate.greedy import GreedyDebater  # noqa: E402
from aligngym.envs.core.debate import format_game  # noqa: E402
from aligngym.oversight.debate.pixel_judge import PixelJudge  # noqa: E402

ENV_ID = "aligngym/PixelDebate-v0"
PROTOCOLS = ["direct", "consultancy", "debate", "full_information"]
GAMES = 200

# %% [markdown]
# ## One debate, move by move
# The judge (trained on 6 random pixels) watches an honest debater and a liar reveal 6 pixels
# of a test digit. The liar has no fixed claim: it argues for whichever false class it can.

# %%
judges = {moves: PixelJudge(ENV_ID, {"moves": moves}) for moves in (4, 6)}
full_judge = PixelJudge(ENV_ID, {}, full_information=True)
greedy = GreedyDebater(ENV_ID)
env = aligngym.make(ENV_ID, protocol="debate", split="test")
play_game(env, greedy, judges[6], seed=3)
print(format_game(env.record))
print(env.image_text())

# %% [markdown]
# ## Judge accuracy per protocol
# The same judge, the same test digits; 4 and 6 pixels.

# %%
results = {}
for moves, judge in judges.items():
    for protocol in PROTOCOLS:
        env = aligngym.make(ENV_ID, protocol=protocol, split="test", moves=moves)
        deciding = full_judge if protocol == "full_information" else judge
        games = [play_game(env, greedy, deciding, seed)[0] for seed in range(GAMES)]
        results[moves, protocol] = np.mean([game.performance for game in games])
    floor, ceiling = results[moves, "direct"], results[moves, "full_information"]
    gap = (results[moves, "debate"] - floor) / (ceiling - floor)
    print(f"{moves} pixels: " + ", ".join(f"{p} {results[moves, p]:.2f}" for p in PROTOCOLS)
          + f"; debate recovers {gap:.0%} of the gap")  # fmt: skip

# %%
figure, ax = plt.subplots(figsize=(7, 4))
width = 0.2
for k, protocol in enumerate(PROTOCOLS):
    heights = [results[moves, protocol] for moves in (4, 6)]
    ax.bar(np.arange(2) + (k - 1.5) * width, heights, width, label=protocol)
ax.set_xticks(range(2), ["4 pixels", "6 pixels"])
ax.set_ylabel("judge accuracy (test digits)")
ax.set_title("Pixel debate: the judge alone, with a consultant, with a debate, with everything")
ax.set_ylim(0, 1)
ax.legend(fontsize="small")
figure.tight_layout()
figure.savefig("pixel_debate.png", dpi=100)
print("plot: pixel_debate.png")
