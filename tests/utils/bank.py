"""Small, valid question files for tests, one of each type."""

SAMPLE = """\
- id: s-single
  kind: quiz
  type: single
  topic: cnn
  difficulty: 1
  prompt: Which layer shrinks a feature map by taking the largest value in each window?
  choices: [Max pooling, Batch norm, Dropout]
  answer: Max pooling
  explanation: Max pooling keeps the largest activation per window; the others do not resize.
  demo: pooling
- id: s-multi
  kind: quiz
  type: multi
  topic: regularization
  difficulty: 2
  prompt: Which of these reduce overfitting?
  choices: [Dropout, Weight decay, A larger learning rate, Early stopping]
  answer: [Dropout, Weight decay, Early stopping]
  explanation: Dropout, weight decay and early stopping all limit how closely the model fits noise.
- id: s-tf
  kind: quiz
  type: truefalse
  topic: activation-functions
  difficulty: 1
  prompt: ReLU's derivative is 0 for negative inputs.
  answer: true
  explanation: For x < 0 ReLU is constant at 0, so its slope there is 0.
- id: s-num
  kind: quiz
  type: numeric
  topic: cnn
  difficulty: 2
  prompt: A 3x3 convolution with no padding and stride 1 on a 32-pixel-wide input gives what width?
  answer: 30
  tolerance: 0
  explanation: (32 - 3) / 1 + 1 = 30.
- id: s-short
  kind: quiz
  type: short
  topic: backpropagation
  difficulty: 2
  prompt: Name the problem where early layers of a deep sigmoid network barely learn.
  answers: ['(the )?vanishing gradients?( problem)?']
  explanation: Gradients shrink as they pass back through saturating layers.
  demo: vanishing-gradients
  demo_params: {activations: [sigmoid, relu]}
- id: s-open
  kind: interview
  type: open
  topic: regularization
  difficulty: 2
  prompt: What is dropout and why is it used?
  answer: Dropout zeroes random units during training so the network cannot rely on any one of them.
  key_points: [Random units are zeroed in training, Acts like an ensemble, Off at inference]
  explanation: Dropout is a regularizer that makes units less co-dependent.
  demo: dropout
- id: s-faq
  kind: faq
  type: open
  topic: career
  difficulty: 1
  prompt: Do I need a PhD to work in deep learning?
  answer: No; most applied roles value shipped projects over degrees.
  key_points: [Projects matter most]
  explanation: Most applied roles hire on demonstrated skill with real projects.
"""
