"""Input and output shapes of the fulfillment API, one module per subject as in
``fulfillment.apis``; the fields and limits they share are in ``fields``. Input and output are
separate classes and carry no business rules: those live in ``fulfillment.services``."""
