#include "tools/make_model/corpus.h"

namespace ember::tools {
namespace {

// Plain English prose written for this project (no third-party text), one paragraph per line.
// Common words recur often enough for BPE to learn a few hundred merges; a handful of accented
// words, digits, quotes and contractions exercise multi-byte characters, digit splitting and the
// byte-level contraction rules. Changing this text changes every generated tokenizer.
constexpr char kCorpus[] =
    R"(The old lighthouse stood at the end of the harbour, and every night the keeper climbed the ninety steps to light the lamp. He had done it for thirty years, in rain and in fog, and the ships that passed the point had never once found the tower dark.
In the morning the fishing boats came back with the tide. The children ran down to the water to see what the nets had brought in, and the women at the market set out their tables before the sun was high. It was a small town, but it was never a quiet one.
A clock is a simple machine when you look at it closely. A spring or a weight stores the energy, a train of gears passes it along, and the escapement lets it out one small step at a time. The pendulum keeps the time steady, because each swing takes the same time as the one before it.
To bake a good loaf of bread you need only flour, water, salt and yeast, but you also need patience. The dough must rest and rise, then be folded and shaped, then rise again. If you rush it, the bread will be dense and flat; if you wait, it will be light and full of air.
The river runs through the middle of the valley, past the mill and under the stone bridge. In the spring it is wide and fast and brown with mud from the hills. In the late summer it is slow and clear, and you can see the fish resting in the shade of the willows.
Scientists measure the speed of light at almost 300,000 kilometres per second. Sound is far slower: it travels about 343 metres per second in air, which is why you see the lightning before you hear the thunder. Count the seconds between them and divide by three to find how many kilometres away the storm is.
"Where are you going?" asked the girl at the gate. "To the city," said the traveller, "but I'll stop here for the night if there's a room." She said there was, and that dinner would be ready at seven. He thanked her, and he didn't ask the price.
Good software is written twice: once to find out what the problem really is, and once to solve it well. The first version teaches you where the hard parts are. The second version puts them where they belong, gives each part one job, and says clearly what it expects and what it returns.
A library is more than a room full of books. It is a place where anyone can sit and read, where a student can find the answer to a question, and where a child can learn that there are more stories in the world than there are days to read them.
The weather changed quickly in the mountains. In the morning the sky was clear and the air was cold and still; by noon the clouds had come over the ridge, and by the middle of the afternoon it was snowing so hard that the climbers could not see the path in front of them.
We planted the garden in April. There were rows of beans and peas, a bed of carrots, and three tomato plants by the south wall where the sun was warmest. By July the beans were taller than the fence, and we were giving away more vegetables than we could eat.
The train left the station at 8:15 and arrived in the city two hours later. Most of the passengers were reading or sleeping, but a few of them watched the fields and the farms and the small towns go by, and wondered what it would be like to live in one of them.
Music is made of sound and silence. A melody is a line of notes that rise and fall, a rhythm is the pattern of their lengths, and harmony is what you hear when several notes sound at the same time. A good song needs all three, and it needs them to fit together.
The café on the corner opened at six. The baker brought the bread while it was still warm, the owner made the first pot of coffee, and by seven the tables were full of people reading the news, talking about the weather, and planning the day ahead.
It's easy to think that a small change won't matter, but small changes add up. A few minutes of practice every day, a little money saved each week, a short walk after dinner: none of these seems like much on its own, and all of them together can change a life.
When the power went out, the whole street went dark at once. People came out of their houses with candles and torches, and neighbours who had never spoken to each other stood in the road and talked until the lights came back on, a little after midnight.
The map showed a path along the coast, over the cliffs and down to a small beach that could only be reached at low tide. We set out early, with water and bread and a little cheese, and we reached the beach just as the sea was going out.
Every language has its own sounds and its own rules, but they all do the same work: they let one person put a thought into the mind of another. A word is only a sound or a mark on a page, and yet it can carry a whole idea from one place to another.
The first rule of the workshop was simple: put every tool back where you found it. The second rule was to measure twice and cut once. The third rule, which the old carpenter said was the most important, was to never work when you were tired or in a hurry.
She opened the letter slowly. It was from her brother, who had moved to the other side of the world ten years before. He wrote that he was well, that the children were growing fast, and that they would all come home for the summer, if she would have them.
There are 7 days in a week, 12 months in a year, and 365 days in most years. Every fourth year has 366 days, because the earth takes a little more than 365 days to go around the sun, and the extra quarter of a day has to go somewhere.
A naïve plan is not always a bad one. Sometimes the simple answer is the right answer, and the clever one only hides the problem under more work. The trick is to know which is which, and that only comes with time and with making mistakes.
The city was built on seven hills, and every street seemed to go either up or down. The houses were painted in bright colours, the markets were full of fruit and fish and flowers, and in the evening the people sat outside and watched the sun go down over the water.
Names make a good test for any reader: Ada, Ben, Chloe, Dmitri, Eve, Farah, Grace, Hugo, Ivan, Jun, Kofi, Lena, Mateo, Nora, Olu, Priya, Quinn, Rosa, Sven, Tariq, Uma, Viktor, Wen, Ximena, Yusuf and Zoe all came to the party (some of them late), solved a puzzle about a lazy zebra, and agreed it was the best night of the year!
At the end of the day the keeper climbed the stairs again. The sea was calm, the sky was clear, and the first stars were coming out over the harbour. He lit the lamp, wound the clock, and sat by the window to watch the light turn slowly through the dark.
)";

}  // namespace

absl::string_view TrainingCorpus() { return kCorpus; }

}  // namespace ember::tools
