"""Data recipes for the foreign-BPMN corpus: what a person or a partner system would answer.

One entry per diagram id of `../shared/corpus/foreign-bpmn`, read by `bench.corpus`. Values are
chosen by reading each diagram's gateway conditions, scripts and forms so that one instance can
reach an end; they are data only (the outcome is whatever the diagram does with them):

    start     the data the ticket opens with (bare SpiffWorkflow: the workflow's root data)
    tasks     {BPMN id of a user/manual task: data}; a list gives the data per visit, the last
              one repeating (loops)
    messages  {message name: payload}; a list gives the payload per delivery
    order     what to do first when several things are open: "task", "message", "timer"
    why       one line on the choice, for readers of the recipe

A task with a form gets the form's defaults and sample values for its required fields first
(`bench.corpus.driving.form_data`); the recipe's data is laid over them.
"""

RECIPES: dict[str, dict] = {
    "S03": {
        "tasks": {"Activity_09c27ms": {"initialstuff": "yes"}, "Activity_Pester_Dad": {"answer": "Yes"}},
        "why": "the subprocess loops until answer == 'Yes'",
    },
    "S05": {
        "tasks": {"Activity_Work": {"work_done": "Yes"}, "GetReason": {"delay_reason": "traffic"}},
        "order": ["timer", "task", "message"],
        "why": "the parallel join after the subprocess waits for the non-interrupting timer's branch too",
    },
    "S08": {
        "tasks": {"set_data": {"u": 1, "v": 0, "w": 1}},
        "why": "u > 0 and w > 0 take both branches and leave v == 0, the end condition",
    },
    "S09": {
        "start": {"lover_name": "Peggy"},
        "messages": {"Love Letter Response": {"from_name": "Peggy"}},
        "why": "the sent letter correlates on lover_name, the response on from_name",
    },
    "S10": {
        "tasks": {
            "configure": [{"task_num": 1}, {"task_num": 2}],
            "rename_id": [{"init_id": 1}, {"init_id": 2}],
        },
        "messages": {"proc_2_response": [{"init_id": 1}, {"init_id": 2}]},
        "why": "each loop instance sends its task_num; process 2 answers with the same number as init_id "
        "(delivered from outside when process 2 does not run)",
    },
    "S11": {
        "start": {"input_data": [1, 2, 3]},
        "tasks": {"any_task": {"output_item": 2}},
        "why": "the multi-instance reads input_data and expects an output item from every instance",
    },
    "S12": {
        "tasks": {"any_task": {"output_item": 2}},
        "why": "every instance of the loop must produce its output item",
    },
    "S14": {
        "tasks": {"Activity_Get_Data": {"value": "A"}, "Activity_Get_Quantity": {"quantity": 5}},
        "why": "non-empty value and a positive quantity complete the transaction",
    },
    "S15": {
        "tasks": {"generate_data": {"obj_1": "hello"}},
        "why": "generate_data writes the data object obj_1 that the later tasks read",
    },
    "S17": {
        "tasks": {"Activity_A1": {"NewBPMNFeautre": "lanes"}, "Activity_B1": {"NeedClarification": "No"}}
    },
    "S19": {
        "start": {"task_c_done": False},
        "tasks": {"task_a": {"task_a_done": True}, "task_c": {"task_c_done": True}},
        "why": "task_a writes the data object event_1 waits for; the boundary event on task_d reads "
        "task_c_done as soon as task_d opens, so it starts False",
    },
    "S22": {"start": {"a": 1, "b": 2}, "why": "the task's pre-script computes from a and b"},
    "S23": {
        "start": {"input_data": [1, 2, 3]},
        "tasks": {"any_task": {"output_item": 2}},
        "why": "the pre-script maps input_data; every instance produces an output item",
    },
    "S24": {
        "tasks": {"set_data": {"error": True, "payload": "bad data"}},
        "why": "error == True throws the error with its payload to the boundary event",
    },
    "S25": {
        "tasks": {"set_data": {"v1": 1, "v2": 2}},
        "why": "the signal's payload expression reads v1 and v2",
    },
    "S26": {
        "tasks": {"Activity_Interrupt": {"interrupt_task": "Yes"}},
        "why": "'Yes' sends the message that interrupts the other pool's endless work loop",
    },
    "S27": {"start": {"x": 3}, "why": "x not 1 or 2 takes the default flow to the decision table"},
    "A02": {"messages": {"B": {"uid": 1}}, "why": "the receive task correlates on uid == 1"},
    "A05": {
        "tasks": {"Activity_1mx86bc": {"val": "value"}},
        "why": "each instance of the sequential loop must produce val",
    },
    "A06": {
        "messages": {"SystemErrorMessage": {"message_text": "disk full", "recipients": ["ops"]}},
        "why": "the message start event correlates on message_text and recipients",
    },
    "P05": {
        "tasks": {
            "Activity_0v7nz5r": {"firstName": "Chuck", "lastName": "Norris", "telephone": "7138686003"}
        },
        "why": "the script formats telephone; the decision table knows this number",
    },
}
