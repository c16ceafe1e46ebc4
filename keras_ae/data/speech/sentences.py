"""Built-in sentences for the synthesized corpus: the Harvard sentences and seeded templated ones."""

import random


_HARVARD = """The birch canoe slid on the smooth planks.
Glue the sheet to the dark blue background.
It is easy to tell the depth of a well.
These days a chicken leg is a rare dish.
Rice is often served in round bowls.
The juice of lemons makes fine punch.
The box was thrown beside the parked truck.
The hogs were fed chopped corn and garbage.
Four hours of steady work faced us.
A large size in stockings is hard to sell.
The boy was there when the sun rose.
A rod is used to catch pink salmon.
The source of the huge river is the clear spring.
Kick the ball straight and follow through.
Help the woman get back to her feet.
A pot of tea helps to pass the evening.
Smoky fires lack flame and heat.
The soft cushion broke the man's fall.
The salt breeze came across from the sea.
The girl at the booth sold fifty bonds.
The small pup gnawed a hole in the sock.
The fish twisted and turned on the bent hook.
Press the pants and sew a button on the vest.
The swan dive was far short of perfect.
The beauty of the view stunned the young boy.
Two blue fish swam in the tank.
Her purse was full of useless trash.
The colt reared and threw the tall rider.
It snowed, rained, and hailed the same morning.
Read verse out loud for pleasure.
Hoist the load to your left shoulder.
Take the winding path to reach the lake.
Note closely the size of the gas tank.
Wipe the grease off his dirty face.
Mend the coat before you go out.
The wrist was badly strained and hung limp.
The stray cat gave birth to kittens.
The young girl gave no clear response.
The meal was cooked before the bell rang.
What joy there is in living.
A king ruled the state in the early days.
The ship was torn apart on the sharp reef.
Sickness kept him home the third week.
The wide road shimmered in the hot sun.
The lazy cow lay in the cool grass.
Lift the square stone over the fence.
The rope will bind the seven books at once.
Hop over the fence and plunge in.
The friendly gang left the drug store.
Mesh wire keeps chicks inside.
The frosty air passed through the coat.
The crooked maze failed to fool the mouse.
Adding fast leads to wrong sums.
The show was a flop from the very start.
A saw is a tool used for making boards.
The wagon moved on well oiled wheels.
March the soldiers past the next hill.
A cup of sugar makes sweet fudge.
Place a rosebush near the porch steps.
Both lost their lives in the raging storm."""


_SUBJECTS = ("My neighbour", "The old teacher", "A tired doctor", "Our youngest child", "The quiet farmer",
             "Every pilot", "The clever student", "His brother", "The baker", "A nervous driver", "The kind nurse",
             "Her grandfather", "The busy mechanic", "A famous singer", "The shy painter", "The new judge")


_VERBS = ("carefully packed", "quickly found", "slowly carried", "proudly showed us", "never forgot",
          "happily painted", "secretly hid", "gently washed", "loudly praised", "suddenly dropped", "often borrowed",
          "calmly measured", "eagerly opened", "bravely fixed", "quietly sold", "firmly pushed")


_OBJECTS = ("the heavy wooden chair", "a bright yellow umbrella", "the broken kitchen clock", "seven shiny coins",
            "a jar of thick honey", "the muddy leather boots", "an enormous purple map", "the thin silver chain",
            "a basket of ripe plums", "the cheap plastic toys", "a bundle of dry twigs", "the frozen fish pie",
            "a dozen fresh eggs", "the rusty garden gate", "a pair of woollen gloves", "the fragile glass vase")


_ENDINGS = ("before the long journey", "after breakfast on Sunday", "behind the village church",
            "during the thunderstorm", "at the edge of the forest", "near the busy harbour",
            "without asking anybody", "in the cold autumn rain", "while the children were sleeping",
            "under the old oak tree", "on the top floor", "through the narrow window", "by the frozen pond",
            "at midnight yesterday", "beside the railway bridge", "until the shop closed")


_QUESTIONS = ("Why did {s} leave {o} {e}?", "Have you seen {o} {e}?", "Who told {s} about {o}?",
              "Would anyone really buy {o}?")


def builtin_sentences(count=300, seed=0):
    """`count` varied English sentences: Harvard sentences first, then seeded template sentences (statements and
    questions with a varied vocabulary). The list depends only on `count` and `seed`."""
    sentences = [line.strip() for line in _HARVARD.splitlines() if line.strip()]
    rng = random.Random(seed)
    seen = set(sentences)
    while len(sentences) < count:
        subject, verb, obj, ending = (rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS),
                                      rng.choice(_ENDINGS))
        if rng.random() < 0.2:
            sentence = rng.choice(_QUESTIONS).format(s=subject.lower(), o=obj, e=ending)
            sentence = sentence[0].upper() + sentence[1:]
        else:
            sentence = f"{subject} {verb} {obj} {ending}."
        if sentence not in seen:
            seen.add(sentence)
            sentences.append(sentence)
    return sentences[:count]
