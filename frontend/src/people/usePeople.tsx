import { createContext, useContext, useEffect, useSyncExternalStore } from "react";

import { PeopleDirectory, type Profile } from "./People";

export const PeopleContext = createContext<PeopleDirectory | null>(null);

/** The people directory of the chat screen; renders again when anyone's profile changes. */
export function usePeople(names: readonly string[] = []): PeopleDirectory | null {
  const people = useContext(PeopleContext);
  useSyncExternalStore(people?.subscribe ?? noSubscribe, people?.getVersion ?? zero);
  const key = names.join("\n");
  useEffect(() => {
    if (people && key) people.want(key.split("\n"));
  }, [people, key]);
  return people;
}

export function usePerson(name: string): Profile | undefined {
  return usePeople([name])?.get(name);
}

const noSubscribe = () => () => undefined;
const zero = () => 0;
