public enum NNPlaceholder {}
