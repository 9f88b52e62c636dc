# %% [markdown]
# # Real data: wine, bikes and text
#
# A network only ever sees tensors of floating-point numbers. Real data arrives as a
# spreadsheet, a log of measurements over time, or a book, so before any learning someone has
# to decide how each column, each time step and each word becomes numbers. This lesson does
# that for three data sets of the book:
#
# - a **table**: 4898 white wines, eleven chemical measurements and a quality score each;
# - a **time series**: two years of hourly bike rentals in Washington, D.C.;
# - **text**: Jane Austen's *Pride and Prejudice*, as characters and as words.
#
# Along the way: column statistics, masks, one-hot encodings built with `scatter_`, and
# reshaping rows into days without copying a byte (lesson 3's strides at work).
#
# The files are not part of the repository. The loaders look in the folder named by the
# environment variable `TINYGRAD_EDU_DATA` (the tests point it at `../shared/data`), then in
# a download cache; if a file is in neither place, the error says where it looked.

# %%
import csv
import math

import numpy as np

import tinygrad_edu as torch
import tinygrad_edu.nn.functional as F
from tinygrad_edu.datasets import (char_one_hot, find_data_file, load_bikes, load_text,
                                   load_wine, word_index, word_one_hot)
from tinygrad_edu.lessons import output_folder
from tinygrad_edu.plots import line_chart

# The stepper predefines OUT; run as a plain script or a notebook, the lesson picks the default.
OUT = globals().get("OUT") or output_folder(5)

# %% [markdown]
# ## 1. A table: from a CSV file to a tensor
#
# The wine file is plain text: a header line with the column names, then one line per wine,
# fields separated by semicolons. NumPy reads the numbers into a float32 array in one call,
# and `torch.from_numpy` wraps that array as a tensor *without copying it*: both share the
# same memory. The header we read ourselves with Python's `csv` module.

# %%
wine_path = find_data_file("winequality-white.csv")
with open(wine_path, newline="") as f:
    columns = next(csv.reader(f, delimiter=";"))
table = np.loadtxt(wine_path, dtype=np.float32, delimiter=";", skiprows=1)
wine = torch.from_numpy(table)

print(wine_path.name, "→", wine.shape, wine.dtype)
print("columns:", columns)
print(wine[:3])

# %% [markdown]
# Every column but the last is a measurement: those are the model's *inputs* (or features).
# The last column, the quality score given by tasters, is what we would like to predict: the
# *target*. Slicing gives views, so neither line below copies the data. Scores are whole
# numbers, so we keep them as integers (`long`), the type class labels have in PyTorch.
#
# `tinygrad_edu.datasets.load_wine()` does exactly these steps (and checks the header), so
# later lessons can call it in one line. The two must agree.

# %%
data = wine[:, :-1]
target = wine[:, -1].long()
print("data", data.shape, " target", target.shape, target.dtype)
print("scores present:", sorted(set(target.tolist())))
print("wines per score:", torch.bincount(target).tolist())

ready_made = load_wine()
print("same as load_wine():", torch.equal(ready_made.data, data),
      torch.equal(ready_made.target, target))

# %% [markdown]
# ## 2. Categories: integer labels or one-hot vectors
#
# A score can be used as a number (6 is between 5 and 7, so errors could be measured as
# distances) or as a *category* with no order at all. For categories the usual encoding is
# **one-hot**: a vector with one slot per possible value, all zeros except a 1 in the slot of
# the value the sample has. Score 6 out of the ten scores 0–9 becomes
# `[0, 0, 0, 0, 0, 0, 1, 0, 0, 0]`.
#
# `scatter_(dim, index, value)` writes `value` into a tensor at positions given by an index
# tensor: for a 2-D tensor and `dim=1`, row i gets `value` in column `index[i, 0]`. The index
# must have as many dimensions as the tensor written into, so the (4898,) target becomes a
# (4898, 1) column with `unsqueeze(1)`. The trailing underscore means *in place*: it changes
# the zeros tensor instead of making a new one (and returns it, so calls can be chained).

# %%
onehot_scores = torch.zeros(len(target), 10).scatter_(1, target.unsqueeze(1), 1.0)
for score in (3, 6, 9):
    i = (target == score).nonzero()[0].item()          # the first wine with that score
    print(f"wine {i:4d}, score {score} →", onehot_scores[i].tolist())
print("the same with F.one_hot:", torch.equal(F.one_hot(target, 10).float(), onehot_scores))

# %% [markdown]
# ## 3. Column statistics and normalisation
#
# The columns live on very different scales: density is about 0.99 everywhere while total
# sulfur dioxide runs into the hundreds. Learning goes much better when every input has a
# similar range (lesson 6 shows what happens otherwise), and the common fix is to
# *standardise* each column: subtract its mean and divide by its standard deviation. Passing
# `dim=0` to `mean` and `var` reduces over the rows, so we get one number per column, and
# broadcasting then applies those (11,) statistics to every one of the 4898 rows.

# %%
col_mean = data.mean(dim=0)
col_var = data.var(dim=0)
standardized = (data - col_mean) / torch.sqrt(col_var)
for name, m, v in zip(columns, col_mean.tolist(), col_var.tolist()):
    print(f"{name:22s} mean {m:9.4f}   variance {v:10.4f}")
print("after standardising: largest |mean|",
      f"{standardized.mean(dim=0).abs().max().item():.1e},",
      "standard deviations", [round(s, 4) for s in standardized.std(dim=0).tolist()[:3]],
      "...")

# %% [markdown]
# ## 4. Masks: bad, middling and good wines
#
# A comparison such as `target <= 3` gives a tensor of booleans, one per wine, and indexing
# with it keeps the rows where it is True (the mask must have as many entries as the rows).
# `&` combines masks elementwise. With that we can compare the average chemistry of poor,
# middling and good wines.

# %%
bad = target <= 3
mid = (target > 3) & (target < 7)
good = target >= 7
print(f"{bad.sum().item()} bad, {mid.sum().item()} middling, {good.sum().item()} good wines")
bad_mean, mid_mean, good_mean = (data[mask].mean(dim=0) for mask in (bad, mid, good))
print(f"{'':3s}{'column':22s}{'bad':>8s}{'middling':>10s}{'good':>8s}")
for i, (name, b, m, g) in enumerate(zip(columns, bad_mean.tolist(), mid_mean.tolist(),
                                        good_mean.tolist())):
    print(f"{i:2d} {name:22s}{b:8.2f}{m:10.2f}{g:8.2f}")

# %% [markdown]
# Total sulfur dioxide (column 6) stands out: bad wines have much more of it. Could one
# threshold on that column tell good wines from the rest? Call a wine "good" when its score is
# above 5, and *predict* "good" when its sulfur dioxide is below the middling wines' average.
# Two numbers judge the rule: *precision*, the share of wines predicted good that are good,
# and *recall*, the share of good wines the rule finds.

# %%
threshold = mid_mean[6].item()
predicted = data[:, 6] < threshold
actual = target > 5
n_both = (predicted & actual).sum().item()
n_called_good, n_good = predicted.sum().item(), actual.sum().item()
precision, recall = n_both / n_called_good, n_both / n_good
print(f"threshold {threshold:.2f}: {n_called_good} predicted good, {n_good} actually good, "
      f"{n_both} both")
print(f"precision {precision:.2f}, recall {recall:.2f}; predicting 'good' for every wine "
      f"would already have precision {n_good / len(target):.2f}")

# %% [markdown]
# Barely better than guessing: quality depends on many columns at once, in ways one
# threshold cannot capture. Learning such a rule from all eleven columns is what a neural
# network is for; `tinygrad-edu train wine` does it.
#
# ## 5. A time series: bike rentals by the hour
#
# The bike-sharing file has one row per hour from 1 January 2011 to 31 December 2012 (the
# book's version fills the few missing hours with zeros). Its second column is a date
# string, which is not a number, so we keep only its day of the month: the characters 8 and
# 9 of `2011-01-17`. Everything else is numeric already.

# %%
bikes_path = find_data_file("bike-sharing-hour-fixed.csv")
with open(bikes_path, newline="") as f:
    reader = csv.reader(f)
    bike_columns = next(reader)
    rows = [[float(field[8:10]) if k == 1 else float(field) for k, field in enumerate(row)]
            for row in reader]
bikes = torch.tensor(rows)
print("columns:", bike_columns)
print("first row:", bikes[0].tolist())
print("shape", bikes.shape, " strides", bikes.stride())

# %% [markdown]
# Rows are hours in order, and 17520 = 730 days × 24 hours. A day is a natural unit for such
# data (people ride to work in the morning and home in the evening), so we would like a
# tensor indexed by day, hour and column. Because the rows are stored one after the other,
# `view(-1, 24, 17)` can describe the same storage as 730 blocks of 24 rows: moving one day
# skips 24 × 17 = 408 numbers, one hour skips 17, one column skips 1. No copy is made.
#
# Models for sequences often want the channels (columns) before the time steps: shape
# N × C × L, here days × columns × hours. `transpose(1, 2)` swaps the two strides; the data
# again stays where it is.

# %%
by_day = bikes.view(730, 24, 17)
print("by day:", by_day.shape, by_day.stride())
days = by_day.transpose(1, 2)
print("days × columns × hours:", days.shape, days.stride())
print("same storage as bikes:", days.storage().data_ptr() == bikes.storage().data_ptr())

# %% [markdown]
# The weather column (`weathersit`, index 9) holds 1 = clear, 2 = mist, 3 = light rain or
# snow, 4 = heavy rain. Those are ordered, so one could keep them as numbers, but treating
# them as categories is also reasonable, and then they get a one-hot encoding, here for the
# first day's 24 hours. Weather values start at 1 and column indices at 0, hence the `- 1`.
# `torch.cat` appends the four new columns to the day's 17.

# %%
day_one = bikes[:24]
weather_index = day_one[:, 9].long() - 1                  # 1..4 → columns 0..3
weather_cols = torch.zeros(24, 4).scatter_(1, weather_index.unsqueeze(1), 1.0)
print("weather over the first day:", day_one[:, 9].long().tolist())
day_one_wide = torch.cat([day_one, weather_cols], dim=1)
print("first hour with its weather one-hot:", day_one_wide[0].tolist())

# %% [markdown]
# The same for all 730 days at once: in the days × columns × hours layout the weather is
# `days[:, 9, :]`, and its one-hot goes along dimension 1, the columns, so the index
# gets its extra dimension there. Concatenating along dimension 1 makes 21 columns per hour.
#
# Finally, rescale the continuous columns. Two usual choices are mapping to [0, 1] with the
# minimum and maximum, and standardising as for the wines. Both are shown on the weather and
# temperature columns below.

# %%
n_days, n_columns, n_hours = days.shape
weather_index = days[:, 9, :].long() - 1                  # (730, 24)
weather_planes = torch.zeros(n_days, 4, n_hours).scatter_(1, weather_index.unsqueeze(1), 1.0)
days = torch.cat([days, weather_planes], dim=1)
print("with the weather one-hot:", days.shape)

weather_01 = (days[:, 9, :] - 1.0) / 3.0             # 1..4 → 0..1
temp = days[:, 10, :]
temp_01 = (temp - temp.min()) / (temp.max() - temp.min())
temp_std = (temp - temp.mean()) / temp.std()
print(f"weather in [{weather_01.min().item()}, {weather_01.max().item()}], temperature in "
      f"[{temp_01.min().item()}, {temp_01.max().item()}] or standardised (mean "
      f"{temp_std.mean().item():.1e}, std {temp_std.std().item():.4f})")

# %% [markdown]
# `load_bikes(daily=True, weather_onehot=True)` returns the days × hours × 21 columns version
# (hours before columns); transposed, it must equal ours. And the new layout makes questions
# about the daily rhythm easy: the average count (column 16) per hour of day, on working days
# and on the other days.

# %%
ready_daily = load_bikes(daily=True, weather_onehot=True)
print("load_bikes agrees:", torch.equal(ready_daily.transpose(1, 2), days))

counts = days[:, 16, :]                      # 730 days × 24 hours
working = days[:, 8, 0] == 1                 # one flag per day
by_hour_work = counts[working].mean(dim=0)
by_hour_free = counts[~working].mean(dim=0)
busiest_work, busiest_free = by_hour_work.argmax().item(), by_hour_free.argmax().item()
print(f"{working.sum().item()} working days: busiest hour {busiest_work}:00 "
      f"({by_hour_work.max().item():.0f} bikes on average)")
print(f"{(~working).sum().item()} other days: busiest hour {busiest_free}:00 "
      f"({by_hour_free.max().item():.0f} bikes on average)")

hours = range(24)
print("wrote", line_chart(OUT / "bikes_by_hour.svg", [
    ("working days", "#1f5fa8", hours, by_hour_work.tolist()),
    ("weekends and holidays", "#d2691e", hours, by_hour_free.tolist())],
    x_label="hour of the day", y_label="bikes", x_ticks=[(h, f"{h}:00") for h in hours[::3]],
    width=720, height=300))

# %% [markdown]
# Two rush hours on working days, one broad afternoon hump otherwise: the kind of structure
# a model of this series can exploit (`tinygrad-edu train bikes` predicts the next hour's
# count from the current one).
#
# ## 6. Text: characters and words
#
# Text is a sequence of symbols, and symbols are categories, so one-hot encoding works here
# too; the only question is what a symbol is. Start with characters. Line 200 of the novel
# is a line of dialogue:

# %%
text = load_text()
lines = text.split("\n")
line = lines[200]
print(repr(line), "—", len(line), "characters")

# %% [markdown]
# Each character has a number in Unicode; the first 128 of those are ASCII, enough for
# English. So one row of 128 columns per character, lower-cased, with anything outside
# ASCII (the curly quotation marks this edition uses) sent to column 0. Building the index
# tensor first and scattering once does the whole line in one operation.

# %%
chars = line.lower().strip()
codes = torch.tensor([ord(c) if ord(c) < 128 else 0 for c in chars])
char_rows = torch.zeros(len(line), 128)
char_rows[:len(chars)].scatter_(1, codes.unsqueeze(1), 1.0)
print("one-hot characters:", char_rows.shape)
print("'i' is column", ord("i"), "→ row 1:", char_rows[1].nonzero().flatten().tolist())
print("same as char_one_hot(line):", torch.equal(char_rows, char_one_hot(line)))

# %% [markdown]
# For words we first need a *vocabulary*: every distinct word of the book, each with its own
# column. Cleaning first keeps "Impossible," and "impossible" from being two words:
# lower-case everything, split on white space, strip punctuation from both ends of each word.
# Sorting the distinct words gives each a stable index.

# %%
def words_of(s):
    return [w.strip('.,;:"!?”“_-') for w in s.lower().replace("\n", " ").split()]


line_words = words_of(line)
vocabulary = {w: i for i, w in enumerate(sorted(set(words_of(text))))}
print(line_words)
print(len(vocabulary), "distinct words; 'impossible' is number", vocabulary["impossible"])

word_rows = torch.zeros(len(line_words), len(vocabulary))
word_ids = torch.tensor([vocabulary[w] for w in line_words])
word_rows.scatter_(1, word_ids.unsqueeze(1), 1.0)
for i, (w, k) in enumerate(zip(line_words, word_ids.tolist())):
    print(f"{i:2d} {k:5d} {w}")
print("one-hot words:", word_rows.shape)
print("same as word_one_hot:", torch.equal(word_rows, word_one_hot(line, word_index(text))))

# %% [markdown]
# Eleven words, 7261 columns each, all but eleven numbers zero. One-hot vectors of words get
# impractically wide as the vocabulary grows, and they say nothing about which words are
# alike. The usual remedy is an **embedding**: a learned table with one short row of floats
# per word. Multiplying a one-hot row by that table just picks out the word's row, so
# `nn.Embedding` skips the multiplication and indexes the table directly, which is the same
# result for a fraction of the work.

# %%
torch.manual_seed(0)
embedding = torch.nn.Embedding(len(vocabulary), 8)
by_lookup = embedding(word_ids)
by_matmul = word_rows @ embedding.weight
print("embedded line:", by_lookup.shape, " lookup equals one-hot @ table:",
      torch.allclose(by_lookup, by_matmul))

# %% [markdown]
# ## Checks
#
# These would fail if reading, slicing, `scatter_`, masks, reductions, views or `cat` gave
# wrong answers: the numbers below are the book's, for the same files.

# %%
# the wine table
assert wine.shape == (4898, 12) and len(columns) == 12 and columns[-1] == "quality"
assert data.storage().data_ptr() == wine.storage().data_ptr()        # slicing copied nothing
assert target.dtype == torch.int64 and sorted(set(target.tolist())) == [3, 4, 5, 6, 7, 8, 9]
assert torch.equal(ready_made.data, data) and torch.equal(ready_made.target, target)

# one-hot: one 1 per row, in the column of the score
assert onehot_scores.sum().item() == 4898 and torch.equal(onehot_scores.sum(dim=1),
                                                          torch.ones(4898))
assert torch.equal(onehot_scores.argmax(dim=1), target)

# statistics (book values) and standardisation
assert math.isclose(col_mean[6].item(), 138.36, abs_tol=0.01)
assert math.isclose(col_var[0].item(), 0.7121, abs_tol=1e-3)
assert standardized.mean(dim=0).abs().max().item() < 1e-4
assert torch.allclose(standardized.std(dim=0), torch.ones(11), atol=1e-4)

# masks and the sulfur-dioxide rule (book: 20 bad wines; 2727 predicted, 3258 good, 2018 both)
assert bad.sum().item() == 20 and bad.sum() + mid.sum() + good.sum() == 4898
assert math.isclose(threshold, 141.83, abs_tol=0.01)
assert (n_called_good, n_good, n_both) == (2727, 3258, 2018)
assert math.isclose(precision, 0.7400, abs_tol=1e-3) and math.isclose(recall, 0.6194,
                                                                        abs_tol=1e-3)

# bikes: views with the right strides, on the same storage
assert bikes.shape == (17520, 17) and bikes.stride() == (17, 1)
assert bikes[0, 1].item() == 1.0 and bikes[-1, 1].item() == 31.0       # day of the month
assert bikes.view(-1, 24, 17).stride() == (408, 17, 1)
assert bikes.view(-1, 24, 17).transpose(1, 2).stride() == (408, 1, 17)
first_day_weather = [1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 2, 2, 2, 2]
assert day_one[:, 9].long().tolist() == first_day_weather                 # the book's
assert (weather_cols.argmax(dim=1) + 1).tolist() == first_day_weather     # one-hot decodes
assert day_one_wide.shape == (24, 21) and day_one_wide[0, 17:].tolist() == [1, 0, 0, 0]
assert days.shape == (730, 21, 24)
assert days[:, 17:, :].sum().item() == 17520                   # one weather per hour
assert torch.equal(ready_daily.transpose(1, 2), days)
assert weather_01.min().item() == 0.0 and weather_01.max().item() == 1.0
assert busiest_work == 17 and by_hour_work[8] > 2 * by_hour_free[8]    # the commute
assert busiest_free == 13

# text (book: line 200 has 70 characters; 7261 words, 'impossible' at 3394)
assert line.startswith("“Impossible, Mr. Bennet") and len(line) == 70
assert char_rows.shape == (70, 128) and char_rows.sum().item() == len(chars)
assert char_rows[0, 0].item() == 1.0                                # the curly quote
assert torch.equal(char_rows, char_one_hot(line))
assert len(vocabulary) == 7261 and vocabulary["impossible"] == 3394
assert word_ids.tolist()[:3] == [3394, 4305, 813] and word_rows.shape == (11, 7261)
assert torch.equal(word_rows, word_one_hot(line, word_index(text)))
assert torch.allclose(by_lookup, by_matmul)

assert (OUT / "bikes_by_hour.svg").read_text().count("<polyline") == 2
print("All checks passed.")
